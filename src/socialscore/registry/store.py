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
    sa.Column("status", sa.String(20), nullable=False),  # running | ok | failed | aborted
    sa.Column("pid", sa.Integer),
    sa.Column("steps", sa.Text),  # requested steps and the host (while running), then their outcomes
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


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).splitlines()[0] if str(original) else original.__class__.__name__


def short_version(version: str | None) -> str:
    """A version id short enough for a table column: its type, mode and time stamp to the second.

    ``nb_logistic-prod-20261207T182300.210126Z-4ab0f315`` → ``prod-20261207T182300-4ab0f315``
    (still unique: the suffix is a hash); ``models show`` prints the full id.
    """
    if not version:
        return "-"
    parts = version.split("-")
    if len(parts) >= 4 and parts[-2][:8].isdigit():
        return f"{parts[-3]}-{parts[-2].split('.')[0]}-{parts[-1]}"
    return version


def _listed(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def short_run(run_id: str) -> str:
    """A run id without its microseconds (``runs show`` takes any unique prefix, and prints the full id)."""
    stamp, _, rest = run_id.partition("-")
    return f"{stamp.split('.')[0]}-{rest}" if rest else run_id


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
    def for_project(cls, settings: Any, layout: Any, database: Any = None) -> ModelRegistry:
        """The registry of a project (the only way to build one): its database, its ``models/``.

        ``database`` reuses an open :class:`~socialscore.storage.db.database.Database` (a run's).
        """
        from socialscore.storage.db.database import Database

        database = database or Database.from_settings(settings, layout)
        return cls(database.engine, layout.models_dir, database.describe())

    @classmethod
    def existing(cls, settings: Any, layout: Any) -> ModelRegistry | None:
        """The project's registry when its database holds one; None when there is none (nothing is created).

        A served copy of ``models/`` without the project database (a container image) has no registry:
        then ``bundle.json`` is the record. A database that is configured but cannot be reached raises.
        """
        from socialscore.storage.db.database import Database

        database = Database.from_settings(settings, layout)
        path = database.engine.url.database
        if database.engine.dialect.name == "sqlite" and (not path or not Path(path).is_file()):
            return None
        registry = cls(database.engine, layout.models_dir, database.describe())
        try:
            with database.engine.connect() as conn:
                held = sa.inspect(conn).has_table(versions.name)
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(registry._problem(exc)) from None
        return registry if held else None

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
        except sa.exc.DBAPIError as exc:
            raise DatabaseError(self._problem(exc)) from None

    def _problem(self, exc: BaseException) -> str:
        reason = _reason(exc)
        if self.engine.dialect.name == "postgresql" and "does not exist" in reason:
            from socialscore.storage.db.database import postgres_connection_problem

            return postgres_connection_problem(self.engine.url, reason)
        return f"the model registry in {self.describe} cannot be used: {reason}"

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
        if name in (PRODUCTION, STAGING):
            raise ModelError(
                f"no version holds the alias {name!r} yet: promote one (socialscore models promote VERSION) "
                "or run a model that passes the gate"
            )
        with self._begin() as conn:
            known = [r.version for r in conn.execute(sa.select(versions.c.version).order_by(versions.c.created_at))]
        if name in known:
            return name
        found = [v for v in known if short_version(v) == name or v.startswith(name) or short_version(v).startswith(name)]
        if len(found) > 1:
            raise ModelError(f"model version {name!r} is ambiguous: {len(found)} versions match ({_listed(found)})")
        if not found:
            raise ModelError(f"no model version {name!r} in the registry (see: socialscore models list)")
        return found[0]

    def load(self, name: str) -> Any:
        """The ScoringPipeline of a version or alias, its files checked against the recorded sha256."""
        from socialscore.modeling.scorer.pipeline import ScoringPipeline

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
        """Point ``name`` at ``version`` and record the move, in one transaction; return the previous version."""
        stamp = now()
        with self._begin() as conn:
            if conn.execute(sa.select(versions.c.version).where(versions.c.version == version)).first() is None:
                raise ModelError(f"no model version {version!r} in the registry (see: socialscore models list)")
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
        """The version rollback restores: the newest earlier holder of ``name`` that is not its current
        version and still exists (a promotion of the version already held moves nothing back)."""
        current = self.alias(name)
        with self._begin() as conn:
            known = {r.version for r in conn.execute(sa.select(versions.c.version))}
        for event in self.alias_history(name):
            previous = event["previous"]
            if previous is not None and previous != current and previous in known:
                return previous
        return None

    # --- pruning --------------------------------------------------------------------------------
    def protected(self) -> set[str]:
        """Versions prune must keep: those an alias names and those a rollback of an alias would restore."""
        held = self.aliases_of()
        return set(held.values()) | {v for v in (self.previous_of(a) for a in held) if v is not None}

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions per mode; never one an alias names or rollback reaches."""
        import shutil

        protected = self.protected()
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
        self.reap_runs()
        query = sa.select(runs).order_by(runs.c.started_at.desc()).limit(limit)
        if mode:
            query = query.where(runs.c.mode == mode)
        with self._begin() as conn:
            return [_row(r) for r in conn.execute(query)]

    def get_run(self, run_id: str) -> dict[str, Any]:
        self.reap_runs()
        with self._begin() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:  # a unique prefix (of the full or the short id) is enough, as with git commits
                ids = conn.execute(sa.select(runs.c.run_id).order_by(runs.c.started_at)).scalars()
                found = [r for r in ids if r.startswith(run_id) or short_run(r).startswith(run_id)]
                if len(found) > 1:
                    raise ModelError(f"run id {run_id!r} is ambiguous: {len(found)} runs start with it ({_listed(found)})")
                if found:
                    row = conn.execute(sa.select(runs).where(runs.c.run_id == found[0])).first()
        if row is None:
            raise ModelError(f"no run {run_id!r} (see: socialscore runs list)")
        return _row(row)

    def reap_runs(self) -> list[str]:
        """Mark ``aborted`` the runs still ``running`` whose process is gone (same host, pid not alive).

        A run killed with SIGKILL, or stopped by a dead database or a full disk, never wrote its end;
        the next command that reads the run table closes it. Runs of other hosts are left as they are.
        """
        host = run_host()
        with self._begin() as conn:
            running = conn.execute(sa.select(runs.c.run_id, runs.c.pid, runs.c.steps).where(runs.c.status == "running"))
            dead = [r.run_id for r in running
                    if (json.loads(r.steps or "{}") or {}).get("host") == host and not pid_alive(r.pid)]
            for run_id in dead:
                conn.execute(
                    runs.update().where(runs.c.run_id == run_id, runs.c.status == "running").values(
                        status="aborted", finished_at=now(),
                        error="the run's process ended without recording an outcome (killed, or a fault such as a full disk)",
                    )
                )
        return dead


def run_host() -> str:
    import socket

    return socket.gethostname()


def pid_alive(pid: int | None) -> bool:
    """Whether a process ``pid`` exists on this host (signal 0 checks without sending anything)."""
    import os

    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
