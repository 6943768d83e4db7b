"""The registry (the database) decides what is served, and its alias moves are checked and atomic.

Each test reproduces one case of issue 22 (Part 2) on a registry of tiny real versions; see
docs/reliability.md "Registry and outputs" for the case table.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from socialscore.errors import ModelError, TamperedModelError
from socialscore.registry.serving import (
    check_export,
    load_checked,
    promote,
    rollback,
    served_problems,
)
from socialscore.registry.store import PRODUCTION, STAGING


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _alter_arrays(directory: Path) -> None:
    """Change the model's weights in ``directory/arrays.npz`` (1.0 added to every float array)."""
    import numpy as np

    with np.load(directory / "arrays.npz", allow_pickle=False) as stored:
        arrays = {k: (stored[k] + 1.0 if stored[k].dtype.kind == "f" else stored[k]) for k in stored.files}
    with open(directory / "arrays.npz", "wb") as handle:
        np.savez(handle, **arrays)


def _tamper_with_manifest(models: Path) -> None:
    """Change the served weights and rewrite bundle.json's sha256 to match (the manifest agrees)."""
    _alter_arrays(models)
    manifest = json.loads((models / "bundle.json").read_text())
    manifest["files"]["arrays.npz"] = _sha(models / "arrays.npz")
    (models / "bundle.json").write_text(json.dumps(manifest))


def test_an_export_whose_manifest_was_rewritten_is_refused(registry, add_version) -> None:
    v1 = add_version("v1")
    promote(registry, v1, "first")
    models = registry.models_dir
    load_checked(models)  # intact: served
    _tamper_with_manifest(models)
    with pytest.raises(TamperedModelError, match="registry"):
        load_checked(models)
    assert served_problems(registry) and "registry" in served_problems(registry)[0]


def test_changed_files_under_an_untouched_manifest_are_refused_even_when_unchanged(registry, add_version) -> None:
    v1 = add_version("v1")
    promote(registry, v1, "first")
    _alter_arrays(registry.models_dir)
    with pytest.raises(TamperedModelError, match="does not match"):
        check_export(registry.models_dir)


def test_api_reload_of_a_tampered_export_is_409_and_the_old_model_keeps_serving(registry, add_version) -> None:
    from fastapi.testclient import TestClient

    from socialscore.api.service import create_app
    from socialscore.api.settings import ApiSettings

    v1 = add_version("v1")
    promote(registry, v1, "first")
    app = create_app(ApiSettings(_env_file=None, models_dir=registry.models_dir))  # type: ignore[call-arg]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/v1/score", json={"text": "hello"}).json()["model_version"] == v1
        _alter_arrays(registry.models_dir)
        unchanged_manifest = client.post("/v1/admin/reload")  # bundle.json untouched: was 200 "unchanged"
        assert unchanged_manifest.status_code == 409, unchanged_manifest.text
        _tamper_with_manifest(registry.models_dir)
        rewritten = client.post("/v1/admin/reload")  # sha256 rewritten in bundle.json: was 200 "reloaded"
        assert rewritten.status_code == 409, rewritten.text
        assert "registry" in rewritten.json()["error"]["message"]
        assert client.post("/v1/score", json={"text": "hello"}).json()["model_version"] == v1


def test_promote_with_a_corrupt_version_moves_nothing(registry, add_version) -> None:
    v1, v2 = add_version("v1"), add_version("v2")
    promote(registry, v1, "first")
    served = _sha(registry.models_dir / "arrays.npz")
    _alter_arrays(registry.version_dir(v2))  # another file copied into the version's folder
    with pytest.raises(ModelError, match="does not match"):
        promote(registry, v2, "by hand", force=True)
    assert registry.alias(PRODUCTION) == v1  # was v2: the alias moved before the sha check failed
    assert _sha(registry.models_dir / "arrays.npz") == served
    assert [e["version"] for e in registry.alias_history(PRODUCTION)] == [v1]


def test_a_dev_version_needs_force_to_reach_production(registry, add_version) -> None:
    dev = add_version("dev-1", mode="dev")
    with pytest.raises(ModelError, match="dev model"):
        promote(registry, dev, "by hand")
    assert registry.alias(PRODUCTION) is None
    promote(registry, dev, "demo box", force=True)
    assert registry.alias(PRODUCTION) == dev
    promote(registry, dev, "dev may go to staging", alias=STAGING)  # staging takes dev models
    assert registry.alias(STAGING) == dev


def test_rollback_skips_self_moves(registry, add_version) -> None:
    v1, v2 = add_version("v1"), add_version("v2")
    promote(registry, v1, "first")
    promote(registry, v2, "second")
    promote(registry, v2, "again")  # a self-move: production was already v2
    restored, replaced = rollback(registry)
    assert (restored, replaced) == (v1, v2)  # was v2 → v2
    assert registry.alias(PRODUCTION) == v1
    assert json.loads((registry.models_dir / "bundle.json").read_text())["model_version"] == v1


def test_prune_keeps_what_rollback_would_restore(registry, add_version) -> None:
    v1 = add_version("v1", created_at="2026-01-01T00:00:01")
    v2 = add_version("v2", created_at="2026-01-01T00:00:02")
    v3 = add_version("v3", created_at="2026-01-01T00:00:03")
    promote(registry, v1, "first")
    promote(registry, v2, "second")
    removed = registry.prune(keep=1)  # v3 is newest, v2 is production, v1 is what rollback restores
    assert removed == []
    assert {v["version"] for v in registry.list_versions()} == {v1, v2, v3}
    assert rollback(registry)[0] == v1


def test_runs_whose_process_is_gone_are_marked_aborted(registry) -> None:
    from socialscore.registry.store import run_host

    gone = subprocess.Popen(["true"])
    gone.wait()  # a real process that ended without recording its end (as after kill -9)
    registry.start_run({"run_id": "20260101T000000.000001-prod-1", "mode": "prod", "pid": gone.pid,
                        "steps": {"requested": ["train"], "host": run_host()}, "config": {}, "code": {}})
    registry.start_run({"run_id": "20260101T000000.000002-prod-2", "mode": "prod", "pid": 1,
                        "steps": {"requested": ["train"], "host": "another-host"}, "config": {}, "code": {}})
    statuses = {r["run_id"]: r["status"] for r in registry.list_runs()}
    assert statuses == {"20260101T000000.000001-prod-1": "aborted",
                        "20260101T000000.000002-prod-2": "running"}  # another host's run: not ours to judge
    assert "ended without recording" in registry.get_run("20260101T000000.000001")["error"]


def test_lookups_say_exactly_what_is_missing(registry, add_version) -> None:
    with pytest.raises(ModelError, match="no version holds the alias 'production'"):
        registry.resolve(PRODUCTION)
    for n in (1, 2):
        registry.start_run({"run_id": f"2026010{n}T000000.000001-dev-{n}", "mode": "dev", "pid": None,
                            "steps": {}, "config": {}, "code": {}})
    with pytest.raises(ModelError, match=r"ambiguous: 2 runs .*20260101T000000.000001-dev-1"):
        registry.get_run("2026")
    assert registry.get_run("20260102T000000-dev")["run_id"] == "20260102T000000.000001-dev-2"  # a short id
    version = add_version("nb_logistic-prod-20261207T182300.210126Z-4ab0f315")
    assert registry.resolve("prod-20261207T182300-4ab0f315") == version


def test_short_ids_are_unique_and_short() -> None:
    from socialscore.registry.store import short_run, short_version

    assert short_version("nb_logistic-prod-20261207T182300.210126Z-4ab0f315") == "prod-20261207T182300-4ab0f315"
    assert short_version("tiny-1") == "tiny-1"
    assert short_run("20261207T182102.862137-dev-11729") == "20261207T182102-dev-11729"


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named_not_a_stopped_server(postgres_url: str, project_dir: Path) -> None:
    import sqlalchemy as sa

    from socialscore.config import load_settings
    from socialscore.errors import DatabaseError
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry
    from socialscore.storage.db.database import Database

    missing = sa.make_url(postgres_url).set(database="socialscore_no_such_database").render_as_string(hide_password=False)
    settings = load_settings("dev", project_dir, [{"database": {"url": missing}}])
    registry = ModelRegistry.for_project(settings, Layout.for_settings(settings, project_dir))
    with pytest.raises(DatabaseError, match="is up but has no database 'socialscore_no_such_database'") as caught:
        registry.list_runs()
    assert "start the server" not in str(caught.value)
    with pytest.raises(DatabaseError, match="has no database"):
        Database.from_url(missing).table_exists("comments_dev")


def test_the_registry_has_one_constructor() -> None:
    """``ModelRegistry.for_project`` is the one door: no other module builds a registry by hand."""
    import re

    import socialscore

    root = Path(socialscore.__file__).parent
    callers = [str(p.relative_to(root)) for p in root.rglob("*.py") if re.search(r"\bModelRegistry\(", p.read_text())]
    assert callers == []


def test_models_list_fits_80_columns_with_short_ids(registry, add_version, project_dir: Path) -> None:
    from typer.testing import CliRunner

    from socialscore.terminal.app import app

    long_id = "nb_logistic-prod-20261207T182300.210126Z-4ab0f315"
    promote(registry, add_version(long_id), "first")
    promote(registry, long_id, "staged too", alias=STAGING)
    result = CliRunner().invoke(app, ["models", "list", "-C", str(project_dir)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "prod-20261207T182300-4ab0f315" in line)
    assert "production, staging" in row and "passed" in row  # one line: nothing wrapped (was 2–4 lines)
    shown = CliRunner().invoke(app, ["models", "show", "prod-20261207T182300-4ab0f315", "-C", str(project_dir)])
    assert json.loads(shown.stdout)["version"] == long_id
