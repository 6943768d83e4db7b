"""A finished pipeline run on small generated data, built once; tests work on copies of it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reliability.helpers import CraftedRun, crafted_data, make_project, run_cli


@pytest.fixture(scope="session")
def baseline_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("baseline") / "project")
    result = run_cli("run", "--mode", "dev", "--project-dir", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def copy_baseline(baseline_project: Path, tmp_path: Path) -> Callable[[str], Path]:
    """``copy_baseline("name")`` → a fresh copy of the finished project (its own SQLite file)."""

    def copy(name: str = "project") -> Path:
        target = tmp_path / name
        shutil.copytree(baseline_project, target)
        return target

    return copy


@pytest.fixture(scope="session")
def crafted_run(tmp_path_factory: pytest.TempPathFactory) -> CraftedRun:
    """One verbose run on data holding canary texts and spreadsheet formulas; prod.csv is scored too."""
    project = make_project(tmp_path_factory.mktemp("crafted") / "project")
    train, prod = crafted_data()
    raw = project / "data" / "raw"
    raw.mkdir(parents=True)
    train.to_csv(raw / "train.csv", index=False)
    prod.to_csv(raw / "prod.csv", index=False)
    result = run_cli("run", "--mode", "dev", "--project-dir", str(project), "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    # serve this dev model the way a person would (a dev run never moves production by itself)
    version = json.loads((project / "models" / "model_metadata_dev.json").read_text())["model_version"]
    promoted = run_cli("models", "promote", version, "--force", "--reason", "reliability tests serve the crafted model",
                       "--project-dir", str(project))
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    return CraftedRun(project, result)
