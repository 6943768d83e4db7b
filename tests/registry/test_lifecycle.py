"""The model lifecycle as a user meets it (Part 1): prod run → dev run → refused run → rollback.

What ``predict`` and the API serve stays the production model, byte for byte, until a prod model passes
the gate or someone promotes or rolls back; every version is listed with its gate verdict.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "steps"))
from model_corpus import make_comments  # noqa: E402

from socialscore.terminal.app import app  # noqa: E402

runner = CliRunner()
PROBE = ["you are a moron and an idiot", "thanks for the helpful edit", "ｙｏｕ ａｒｅ ａ ｍｏｒｏｎ"]


def invoke(project: Path, *args: str):
    return runner.invoke(app, [*args, "--project-dir", str(project)], catch_exceptions=False)


def write_data(path: Path, n: int, seed: int, single_class: bool = False) -> Path:
    comments = make_comments(n, seed=seed)
    frame = pd.DataFrame({"id": comments["id"], "comment_text": comments["text"],
                          "toxic": comments["label_toxic"], "insult": comments["label_insult"]})
    if single_class:
        frame[["toxic", "insult"]] = 0
    frame.to_csv(path, index=False)
    return path


def served_scores(project: Path) -> str:
    """sha256 of `socialscore predict` output on a fixed probe file (the served model's answers)."""
    probe = project / "probe.csv"
    pd.DataFrame({"text": PROBE}).to_csv(probe, index=False)
    out = project / "scored.csv"
    result = runner.invoke(app, ["predict", "--input", str(probe), "--output", str(out),
                                 "--models-dir", str(project / "models")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return hashlib.sha256(out.read_bytes()).hexdigest()


def write_config(project_dir: Path) -> Path:
    # the dev run's synthetic data: 400 rows are enough (its size is not what these tests check)
    config = {"data": {"example_rows": 400}, "gate": {"behaviour": [{"text": "you are a stupid idiot", "expect": "toxic"},
                                     {"text": "thanks for the helpful article", "expect": "not_toxic"}]}}
    (project_dir / "socialscore.yaml").write_text(yaml.safe_dump(config))
    return project_dir


@pytest.fixture
def project(project_dir: Path) -> Path:
    return write_config(project_dir)


@pytest.fixture(scope="session")
def first_prod_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after one passing prod run on a.csv (600 rows, seed 1), made once; tests use copies."""
    project = tmp_path_factory.mktemp("lifecycle") / "project"
    project.mkdir()
    write_config(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        first = invoke(project, "run", "--mode", "prod", "--data", str(write_data(project / "a.csv", 600, 1)))
    assert first.exit_code == 0, first.output
    return project


@pytest.fixture
def prod_project(first_prod_run: Path, tmp_path: Path) -> Path:
    """A private copy of ``first_prod_run`` (the tests promote, roll back and run again in it)."""
    target = tmp_path / "project"
    shutil.copytree(first_prod_run, target)
    return target


@pytest.mark.slow
def test_dev_and_refused_runs_never_move_production(prod_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = prod_project  # one passing prod run on 600 rows done
    monkeypatch.chdir(project)
    assert "now staging and production" in (project / "logs/pipeline_prod.log").read_text()
    prod_scores = served_scores(project)

    dev = invoke(project, "run", "--mode", "dev")  # the synthetic example data
    assert dev.exit_code == 0, dev.output
    assert served_scores(project) == prod_scores

    bad = write_data(project / "bad.csv", 300, seed=2, single_class=True)
    refused = invoke(project, "run", "--mode", "prod", "--data", str(bad))
    assert refused.exit_code == 1
    assert "quality gate refused the training data" in refused.output and "Traceback" not in refused.output
    assert served_scores(project) == prod_scores

    listing = invoke(project, "models", "list")
    assert listing.exit_code == 0
    assert "production" in listing.output and "passed" in listing.output
    versions = registry_of(project).list_versions()
    assert [v["mode"] for v in versions] == ["dev", "prod"]  # the refused data never made a version
    assert all(v["gate"]["verdict"] for v in versions)  # each with its verdict
    assert invoke(project, "runs", "list").exit_code == 0
    statuses = [r["status"] for r in registry_of(project).list_runs()]
    assert statuses == ["failed", "ok", "ok"]  # newest first


def registry_of(project: Path):
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry

    return ModelRegistry.for_project(load_settings("prod", project), Layout(project, "prod"))


@pytest.mark.slow
def test_a_better_prod_model_is_promoted_and_rollback_restores_the_first(prod_project: Path, monkeypatch) -> None:
    project = prod_project  # one passing prod run on a.csv done
    monkeypatch.chdir(project)
    first_scores = served_scores(project)
    first = invoke(project, "models", "show", "production").output
    second = invoke(project, "run", "--mode", "prod", "--data", str(write_data(project / "b.csv", 700, 4)))
    assert second.exit_code == 0, second.output
    assert served_scores(project) != first_scores
    back = invoke(project, "models", "rollback")
    assert back.exit_code == 0, back.output
    assert served_scores(project) == first_scores
    assert invoke(project, "models", "show", "production").output == first


@pytest.mark.slow
def test_deleted_served_files_are_noticed_and_restored(prod_project: Path, monkeypatch) -> None:
    project = prod_project  # one passing prod run on a.csv done
    monkeypatch.chdir(project)
    scores = served_scores(project)
    (project / "models" / "arrays.npz").unlink()
    status = invoke(project, "status", "--mode", "prod")
    assert "served model" in status.output and "stale" in status.output
    rerun = invoke(project, "run", "--mode", "prod", "--data", str(project / "a.csv"))
    assert rerun.exit_code == 0, rerun.output
    assert served_scores(project) == scores


@pytest.mark.slow
def test_promote_refuses_a_refused_version_without_force(project: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    data = write_data(project / "a.csv", 400, 1)
    refused = invoke(project, "run", "--mode", "prod", "--data", str(data),
                     "--set", "gate.behaviour=[{text: 'thanks for the helpful article', expect: toxic}]")
    assert refused.exit_code == 1 and "quality gate refused" in refused.output
    version = invoke(project, "models", "gate", "--mode", "prod")
    assert version.exit_code == 1 and "refused" in version.output
    registry = registry_of(project)
    name = registry.latest("prod")["version"]
    plain = invoke(project, "models", "promote", name)
    assert plain.exit_code == 1 and "--force" in plain.output
    forced = invoke(project, "models", "promote", name, "--force", "--reason", "accepted by the moderation lead")
    assert forced.exit_code == 0, forced.output
    history = registry.alias_history("production")
    assert history[0]["version"] == name and history[0]["reason"] == "accepted by the moderation lead"


@pytest.mark.slow
def test_the_gate_command_reads_a_restored_served_model(prod_project: Path, monkeypatch) -> None:
    """A CI cache restores models/ but not the database: the served manifest's verdict counts."""
    project = prod_project  # one passing prod run on a.csv done
    monkeypatch.chdir(project)
    restored = project.parent / "restored"
    shutil.copytree(project / "models", restored / "models")
    passed = invoke(restored, "models", "gate", "--mode", "prod")
    assert passed.exit_code == 0 and "passed" in passed.output
    manifest = json.loads((restored / "models" / "bundle.json").read_text())
    manifest["gate"]["passed"] = False
    (restored / "models" / "bundle.json").write_text(json.dumps(manifest))
    assert invoke(restored, "models", "gate", "--mode", "prod").exit_code == 1
    assert invoke(restored, "models", "gate", "--mode", "dev").exit_code == 1


def test_models_list_shows_the_primary_labels_held_out_auc() -> None:
    """Metrics are stored with sorted keys: the list must pick the primary label, not the first one."""
    from socialscore.terminal.registry import _auc

    metrics = {"primary_label": "toxic", "held_out": {"identity_hate": {"roc_auc": 0.91}, "toxic": {"roc_auc": 0.96}}}
    assert _auc(metrics, "held_out") == "0.9600"
    assert _auc({"held_out": {}}, "held_out") == "-"
