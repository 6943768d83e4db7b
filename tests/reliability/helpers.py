"""Shared pieces of the reliability tests: a small project, the CLI in a subprocess, log offsets."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# Small enough that a whole run takes seconds; char n-grams off (they dominate features time).
SMALL_CONFIG = """\
data:
  example_rows: 400
features:
  word_max_features: 3000
  char_ngram_range: null
  min_df: 1
train:
  cv_folds: 2
"""

MODE = "dev"
MODEL_TYPE = "nb_logistic"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "socialscore.terminal.app", *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment (database variables already removed by conftest) plus ``extra``."""
    env = dict(os.environ)
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
    done = subprocess.run(
        cli_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def make_project(directory: Path, data: pd.DataFrame | None = None) -> Path:
    """A project with the small config; ``data`` (if given) becomes data/raw/train.csv (written as is)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "socialscore.yaml").write_text(SMALL_CONFIG, encoding="utf-8")
    if data is not None:
        raw = directory / "data" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        data.to_csv(raw / "train.csv", index=False)
    return directory


def log_file(project: Path) -> Path:
    return project / "logs" / f"pipeline_{MODE}.log"


def log_since(project: Path, offset: int) -> str:
    path = log_file(project)
    if not path.exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", errors="replace")


def log_size(project: Path) -> int:
    path = log_file(project)
    return path.stat().st_size if path.exists() else 0


# --- crafted data: canary texts (must never reach a log) and spreadsheet formulas ------------------
CANARY = "QUOKKACANARY"  # in every crafted comment; searched for case-insensitively
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1:A2)", '=HYPERLINK("http://x.invalid")']
LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


@dataclass
class CraftedRun:
    project: Path
    result: CliResult


def crafted_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labelled train.csv, unlabelled prod.csv): generated comments plus crafted rows.

    Crafted rows: formula-like ids and texts (some valid, some with a label out of range so they are
    rejected), and canary comments among the valid rows.
    """
    from socialscore.storage.synthetic import generate_example

    train = generate_example(400, 7)
    rows = []
    for i, formula in enumerate(FORMULAS):
        base = {label: 0 for label in LABELS}
        rows.append({"id": formula, "comment_text": f"{formula} {CANARY} valid {i}", **base})
        rows.append(
            {
                "id": f"{formula}-rejected",
                "comment_text": f"{formula} bad label {i}",
                **base,
                "toxic": 7,
            }
        )
    for i in range(20):
        rows.append(
            {
                "id": f"canary-{i}",
                "comment_text": f"you said {CANARY} number {i} again",
                **{label: int(label == "toxic" and i % 2 == 0) for label in LABELS},
            }
        )
    train = pd.concat([train, pd.DataFrame(rows)], ignore_index=True)
    prod = pd.DataFrame(
        {
            "id": [*FORMULAS, *[f"p{i}" for i in range(5)]],
            "comment_text": [
                *[f"{f} {CANARY} prod" for f in FORMULAS],
                *[f"=1+{i} {CANARY}" for i in range(5)],
            ],
        }
    )
    return train, prod
