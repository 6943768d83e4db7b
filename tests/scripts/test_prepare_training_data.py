"""scripts/prepare_training_data.sh: keep, build from a labelled source, or generate — run with bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from socialscore.config import DataConfig
from socialscore.steps.extract import extract
from socialscore.storage.synthetic import generate_example

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prepare_training_data.sh"
OUT = Path("data/raw/cleaned_training_sample.csv")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def prepare(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # sys.executable has socialscore installed, so the test does not depend on uv being on PATH
    full_env = {**os.environ, "SOCIALSCORE_PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(SCRIPT), str(project)],
        env=full_env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_generates_the_example_when_nothing_exists(project_dir: Path) -> None:
    done = prepare(project_dir)
    assert done.returncode == 0, done.stderr
    assert "synthetic example" in done.stdout
    out = pd.read_csv(project_dir / OUT)
    assert len(out) == 6000
    again = prepare(project_dir)
    assert "keeping existing" in again.stdout


def test_keeps_an_existing_file(project_dir: Path) -> None:
    (project_dir / "data" / "raw").mkdir(parents=True)
    (project_dir / OUT).write_text("id,comment_text,toxic\n1,mine,0\n")
    done = prepare(project_dir)
    assert done.returncode == 0 and "keeping existing" in done.stdout
    assert (project_dir / OUT).read_text() == "id,comment_text,toxic\n1,mine,0\n"


def test_legacy_location_is_kept_and_copied(project_dir: Path) -> None:
    (project_dir / "data").mkdir()
    (project_dir / "data" / "cleaned_training_sample.csv").write_text(
        "id,anonymized_comment,toxic\n1,x,0\n"
    )
    done = prepare(project_dir)
    assert done.returncode == 0, done.stderr
    assert (project_dir / OUT).read_text() == "id,anonymized_comment,toxic\n1,x,0\n"


@pytest.mark.slow
def test_builds_a_stratified_sample_skipping_unlabelled_prod(project_dir: Path) -> None:
    (project_dir / "data").mkdir()
    (project_dir / "data" / "prod.csv").write_text("comment_text\nto be scored\n")
    kaggle = project_dir / "train.csv"
    kaggle.mkdir()
    source = generate_example(1500, 5)
    source.loc[0, "comment_text"] = " "
    source.loc[1, "comment_text"] = "reach me at someone@example.com"
    source.to_csv(kaggle / "train.csv", index=False)
    done = prepare(project_dir, SAMPLE_ROWS="400")
    assert done.returncode == 0, done.stderr
    assert "has no labels" in done.stdout + done.stderr and "train.csv/train.csv" in done.stdout
    out = pd.read_csv(project_dir / OUT)
    assert len(out) == 400
    assert list(out.columns) == [
        "id",
        "comment_text",
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
    ]
    assert out["comment_text"].str.strip().ne("").all()
    assert not out["comment_text"].str.contains("someone@example.com").any()
    assert abs(out["toxic"].mean() - source["toxic"].iloc[1:].mean()) < 0.02
    raw = extract(
        [project_dir / OUT], DataConfig()
    ).frame  # the pipeline reads what the script wrote
    assert len(raw) == 400 and raw["_error"].isna().all()


@pytest.mark.slow
def test_a_broken_source_fails_with_a_message(project_dir: Path) -> None:
    (project_dir / "data").mkdir()
    (project_dir / "data" / "train.csv").write_text("foo,bar\n1,2\n")
    done = prepare(project_dir)
    assert done.returncode != 0
    assert "no text column" in done.stderr
    assert not (project_dir / OUT).exists()
