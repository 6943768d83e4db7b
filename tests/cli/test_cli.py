"""The command line as a user drives it: run, status, cached reruns, errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore.terminal.app import app, expand_multi_value

runner = CliRunner()
DATA_STEPS = ["--steps", "extract", "--steps", "transform", "--steps", "load"]
# What these tests check does not depend on the data's size: 400 example rows, no char n-grams, 2 folds.
SMALL = "data:\n  example_rows: 400\nfeatures:\n  char_ngram_range: null\n  min_df: 1\ntrain:\n  cv_folds: 2\n"


def invoke(project: Path, *args: str):
    return runner.invoke(app, [*args, "--project-dir", str(project)], catch_exceptions=False)


@pytest.fixture
def small_project(project_dir: Path) -> Path:
    (project_dir / "socialscore.yaml").write_text(SMALL)
    return project_dir


def test_multi_value_steps_are_expanded() -> None:
    argv = ["run", "--mode", "dev", "--steps", "extract", "transform", "load", "--verbose"]
    assert expand_multi_value(argv) == [
        "run", "--mode", "dev", "--steps", "extract", "--steps", "transform", "--steps", "load", "--verbose",
    ]
    assert expand_multi_value(["run", "-s", "train,evaluate"]) == ["run", "-s", "train,evaluate"]


@pytest.mark.slow
def test_data_steps_run_then_cache(small_project: Path) -> None:
    project_dir = small_project
    first = invoke(project_dir, "run", "--mode", "dev", *DATA_STEPS)
    assert first.exit_code == 0, first.output
    assert (project_dir / "data/interim/raw_dev.parquet").exists()
    assert (project_dir / "data/interim/clean_dev.parquet").exists()
    assert (project_dir / "data/socialscore.db").exists()
    assert "timing summary" in first.output
    log = (project_dir / "logs/pipeline_dev.log").read_text()
    assert "step load done" in log

    second = invoke(project_dir, "run", "--mode", "dev", *DATA_STEPS)
    assert second.exit_code == 0, second.output
    assert second.output.count("cached") >= 3
    assert "ran " not in second.output

    status = invoke(project_dir, "status", "--mode", "dev")
    assert status.exit_code == 0
    assert status.output.count("up to date") == 3


def test_invalid_config_is_one_line_without_traceback(project_dir: Path) -> None:
    (project_dir / "socialscore.yaml").write_text("train:\n  cv_fold: 3\n")
    result = invoke(project_dir, "run", "--mode", "dev")
    assert result.exit_code == 1
    assert "unknown key 'train.cv_fold'" in result.output
    assert "Traceback" not in result.output


def test_step_with_missing_input_says_what_to_run(project_dir: Path) -> None:
    result = invoke(project_dir, "run", "--mode", "dev", "--steps", "train")
    assert result.exit_code == 1
    assert "step 'train' failed" in result.output
    assert "first" in result.output
    assert "Traceback" not in result.output


def test_missing_data_file_is_a_clear_error(project_dir: Path) -> None:
    result = invoke(project_dir, "run", "--data", str(project_dir / "nope.csv"), *DATA_STEPS)
    assert result.exit_code == 1
    assert "nope.csv" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_module_form_accepts_the_same_flags(small_project: Path) -> None:
    project_dir = small_project
    result = subprocess.run(
        [sys.executable, "-m", "socialscore", "run", "--mode", "dev",
         "--steps", "extract", "transform", "--project-dir", str(project_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert (project_dir / "data/interim/clean_dev.parquet").exists()
    assert "comments_dev" not in _tables(project_dir)  # load was not selected (the run history is there)


def _tables(project_dir: Path) -> set[str]:
    import sqlite3

    path = project_dir / "data/socialscore.db"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


def test_unknown_step(project_dir: Path) -> None:
    result = invoke(project_dir, "run", "--steps", "trian")
    assert result.exit_code == 1
    assert "unknown step 'trian'" in result.output


@pytest.mark.slow
def test_full_dev_pipeline_on_generated_data(small_project: Path) -> None:
    project_dir = small_project
    result = invoke(project_dir, "run", "--mode", "dev")
    assert result.exit_code == 0, result.output
    for relative in (
        "models/model_metadata_dev.json",
        "reports/metrics_dev.json",
        "reports/report_dev.html",
        "reports/figures_dev/roc_curve.png",
        "reports/predictions_dev.csv",
    ):
        assert (project_dir / relative).exists(), relative
    assert not (project_dir / "models/bundle.json").exists()  # a dev run never becomes the served model
    assert len(list((project_dir / "models/registry").iterdir())) == 1
    rerun = invoke(project_dir, "run", "--mode", "dev")
    assert rerun.exit_code == 0
    assert rerun.output.count("cached") == 7


def test_sample_builds_a_training_sample_and_exits_3_without_labels(tmp_path: Path) -> None:
    from socialscore.storage.synthetic import generate_example

    labelled = tmp_path / "labelled.csv"
    generate_example(400, seed=3).to_csv(labelled, index=False)
    out = tmp_path / "out" / "sample.csv"
    result = runner.invoke(app, ["sample", str(labelled), str(out), "--rows", "100", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "wrote 100 rows" in result.output
    assert out.read_text().splitlines()[0].startswith("id,comment_text,toxic")

    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("id,comment_text\n1,hello there\n2,general kenobi\n")
    result = runner.invoke(app, ["sample", str(unlabelled), str(tmp_path / "never.csv")])
    assert result.exit_code == 3
    assert "has no label column" in result.output
    assert not (tmp_path / "never.csv").exists()
