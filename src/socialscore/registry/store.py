"""The model registry and run history, kept in the project database (SQLite or PostgreSQL).

Tables (created on first use): ``registry_versions`` (one row per trained model version: config,
data fingerprint, code version, metrics, gate verdict, sha256 of its files), ``registry_aliases``
(``production``, ``staging`` → a version), ``registry_alias_events`` (every alias move, with its
reason: what ``rollback`` walks back) and ``registry_runs`` (every ``socialscore run``).
A version's files live in ``models/registry/<version>/`` and are never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from socialscore.errors import DatabaseError, ModelError
from socialscore.registry.aliases import PRODUCTION, STAGING  # noqa: F401  (re-exported)

metadata = sa.MetaData()
versions = sa.Table(
    "registry_versions",
    metadata,
    sa.Column("version", sa.String(200), primary_key=True),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("model_type", sa.String(40), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("run_id", sa.String(80)),
    sa.Column("status", sa.String(20), nullable=False),  # candidate | passed | refused
    sa.Column("files", sa.Text, nullable=False),  # {file name: sha256}
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # rows, label balance, content hash
    sa.Column("code", sa.Text, nullable=False),  # package version, git commit
    sa.Column("metrics", sa.Text, nullable=False),  # cv and held-out
    sa.Column("gate", sa.Text),
)
aliases = sa.Table(
    "registry_aliases",
    metadata,
    sa.Column("alias", sa.String(40), primary_key=True),
    sa.Column("version", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
alias_events = sa.Table(
    "registry_alias_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alias", sa.String(40), nullable=False),
    sa.Column("version", sa.String(200)),
    sa.Column("previous", sa.String(200)),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
runs = sa.Table(
    "registry_runs",
    metadata,
    sa.Column("run_id", sa.String(80), primary_key=True),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("status", sa.String(20), nullable=False),  # running | ok | failed
    sa.Column("pid", sa.Integer),
    sa.Column("steps", sa.Text),  # requested steps and their outcomes
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("facts", sa.Text),
    sa.Column("version", sa.String(200)),
    sa.Column("error", sa.Text),
)
JSON_COLUMNS = {"files", "config", "data", "code", "metrics", "gate", "steps", "facts"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key in JSON_COLUMNS & out.keys():
        out[key] = json.loads(out[key]) if out[key] else None
    return out


def version_dir(models_dir: Path, version: str) -> Path:
    """Where a version's files live: ``models/registry/<version>/``."""
    if not version or "/" in version or "\\" in version or version.startswith("."):
        raise ModelError(f"invalid model version {version!r}")
    return models_dir / "registry" / version


def _begin_immediate(conn: sa.Connection) -> None:
    # storage/db/sqlite.py puts sqlite3 in driver autocommit; take the write lock at BEGIN so two writers queue
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class ModelRegistry:
    """Versions, aliases and runs of one project; files under ``models_dir/registry``."""

    def __init__(self, engine: sa.Engine, models_dir: Path, describe: str = "the project database"):
        self.engine = engine
        self.models_dir = models_dir
        self.describe = describe
        self._ready = False
        if engine.dialect.name == "sqlite" and not sa.event.contains(engine, "begin", _begin_immediate):
            sa.event.listen(engine, "begin", _begin_immediate)

    @classmethod
    def for_project(cls, settings: Any, layout: Any) -> ModelRegistry:
        from socialscore.storage.db.database import Database

        database = Database.from_settings(settings, layout)
        return cls(database.engine, layout.models_dir, database.describe())

    @property
    def root(self) -> Path:
        return self.models_dir / "registry"

    def version_dir(self, version: str) -> Path:
        return version_dir(self.models_dir, version)

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        try:
            if not self._ready:
                database = self.engine.url.database
                if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                metadata.create_all(self.engine, checkfirst=True)
                self._ready = True
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise DatabaseError(f"the model registry in {self.describe} cannot be used: {exc.orig}") from None

    # --- versions -------------------------------------------------------------------------------
    def register(self, record: dict[str, Any]) -> None:
        """Add a version (its files must already be in ``version_dir``)."""
        row = {k: (_dump(v) if k in JSON_COLUMNS else v) for k, v in record.items()}
        row.setdefault("created_at", now())
        row.setdefault("status", "candidate")
        with self._begin() as conn:
            conn.execute(versions.insert().values(**row))

    def set_gate(self, version: str, gate: dict[str, Any], metrics: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"gate": _dump(gate), "status": "passed" if gate["passed"] else "refused"}
        with self._begin() as conn:
            if metrics is not None:
                old = conn.execute(sa.select(versions.c.metrics).where(versions.c.version == version)).scalar()
                values["metrics"] = _dump({**(json.loads(old) if old else {}), **metrics})
            conn.execute(versions.update().where(versions.c.version == version).values(**values))

    def get(self, version: str) -> dict[str, Any]:
        with self._begin() as conn:
            row = conn.execute(sa.select(versions).where(versions.c.version == version)).first()
        if row is None:
            raise ModelError(f"no model version {version!r} in the registry (see: socialscore models list)")
        return _row(row)

    def list_versions(self, mode: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(versions).order_by(versions.c.created_at.desc())
        if mode:
            query = query.where(versions.c.mode == mode)
        with self._begin() as conn:
            return [_row(r) for r in conn.execute(query)]

    def latest(self, mode: str) -> dict[str, Any] | None:
        found = self.list_versions(mode)
        return found[0] if found else None

    def resolve(self, name: str) -> str:
        """A version from a version name or an alias."""
        version = self.alias(name)
        if version is not None:
            return version
        self.get(name)
        return name

    def load(self, name: str) -> Any:
        """The ScoringPipeline of a version or alias, its files checked against the recorded sha256."""
        from socialscore.modeling.pipeline import ScoringPipeline

        version = self.resolve(name)
        return ScoringPipeline.load(self.version_dir(version), self.get(version)["files"])

    # --- aliases --------------------------------------------------------------------------------
    def alias(self, name: str) -> str | None:
        with self._begin() as conn:
            return conn.execute(sa.select(aliases.c.version).where(aliases.c.alias == name)).scalar()

    def aliases_of(self) -> dict[str, str]:
        with self._begin() as conn:
            return {r.alias: r.version for r in conn.execute(sa.select(aliases))}

    def move_alias(self, name: str, version: str, reason: str) -> str | None:
        """Point ``name`` at ``version``; record the move; return the previous version."""
        self.get(version)
        stamp = now()
        with self._begin() as conn:
            previous = conn.execute(sa.select(aliases.c.version).where(aliases.c.alias == name)).scalar()
            if previous is None:
                conn.execute(aliases.insert().values(alias=name, version=version, updated_at=stamp))
            else:
                conn.execute(aliases.update().where(aliases.c.alias == name).values(version=version, updated_at=stamp))
            conn.execute(
                alias_events.insert().values(alias=name, version=version, previous=previous, at=stamp, reason=reason)
            )
        return previous

    def alias_history(self, name: str) -> list[dict[str, Any]]:
        query = sa.select(alias_events).where(alias_events.c.alias == name).order_by(alias_events.c.id.desc())
        with self._begin() as conn:
            return [_row(r) for r in conn.execute(query)]

    def previous_of(self, name: str) -> str | None:
        """The version ``name`` pointed at before its last move (what rollback restores)."""
        history = self.alias_history(name)
        return history[0]["previous"] if history else None

    # --- pruning --------------------------------------------------------------------------------
    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions per mode; never one an alias names."""
        import shutil

        protected = set(self.aliases_of().values())
        removed = []
        for mode in ("dev", "prod"):
            for record in self.list_versions(mode)[keep:]:
                if record["version"] in protected:
                    continue
                with self._begin() as conn:
                    conn.execute(versions.delete().where(versions.c.version == record["version"]))
                shutil.rmtree(self.version_dir(record["version"]), ignore_errors=True)
                removed.append(record["version"])
        return removed

    # --- runs -----------------------------------------------------------------------------------
    def start_run(self, record: dict[str, Any]) -> None:
        row = {k: (_dump(v) if k in JSON_COLUMNS else v) for k, v in record.items()}
        with self._begin() as conn:
            conn.execute(runs.insert().values(status="running", started_at=now(), **row))

    def finish_run(self, run_id: str, **values: Any) -> None:
        row = {k: (_dump(v) if k in JSON_COLUMNS else v) for k, v in values.items()}
        with self._begin() as conn:
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(finished_at=now(), **row))

    def list_runs(self, mode: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = sa.select(runs).order_by(runs.c.started_at.desc()).limit(limit)
        if mode:
            query = query.where(runs.c.mode == mode)
        with self._begin() as conn:
            return [_row(r) for r in conn.execute(query)]

    def get_run(self, run_id: str) -> dict[str, Any]:
        with self._begin() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:  # a unique prefix is enough, as with git commits
                found = conn.execute(sa.select(runs).where(runs.c.run_id.startswith(run_id))).fetchall()
                row = found[0] if len(found) == 1 else None
        if row is None:
            raise ModelError(f"no run {run_id!r} (see: socialscore runs list)")
        return _row(row)
