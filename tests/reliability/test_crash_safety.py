"""kill -9 the real pipeline during train, while a model version / its metadata is written, and during load.

Each case works on a copy of one finished run. Afterwards the previous model (or, when the kill came
after the new one was committed, the new one) loads and verifies, no temp file is taken for an
artifact, ``status`` tells the truth, and the next run completes and redoes the killed step.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from reliability.helpers import MODE, child_env, cli_argv, log_since, log_size, run_cli
from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.modeling.scorer.pipeline import ScoringPipeline
from socialscore.pipeline.orchestrator import Orchestrator
from socialscore.registry.store import ModelRegistry
from socialscore.storage.db.database import Database

pytestmark = pytest.mark.slow

NEW_C = "1.7"  # a different model than the baseline's, so "old" and "new" files differ in bytes
METADATA_FILE = f"model_metadata_{MODE}.json"


def _layout(project: Path, *sets: str) -> tuple[Layout, object]:
    from socialscore.config import parse_override

    settings = load_settings(MODE, project, [parse_override(s) for s in sets])
    return Layout(project, MODE), settings


def kill_when(argv: list[str], ready: Callable[[], bool], timeout: float = 120, poll: float = 0.01) -> bool:
    """Start ``argv``; SIGKILL it within ``poll`` seconds of ``ready()`` holding. False when it exited first.

    The pause between checks keeps this loop from burning a core for the child's whole run (a busy loop
    cost as much CPU as the pipeline it watches)."""
    child = subprocess.Popen(
        argv, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while child.poll() is None:
            if ready():
                os.kill(child.pid, signal.SIGKILL)
                child.wait(10)
                return child.returncode == -signal.SIGKILL
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{argv} neither reached the kill point nor exited in {timeout}s"
                )
            time.sleep(poll)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    return False


def temp_beside(directory: Path, target_name: str) -> Callable[[], bool]:
    """True once atomic_path's temp file for ``target_name`` exists in ``directory``."""
    prefix = f".{target_name}"

    def seen() -> bool:
        try:
            return any(name.startswith(prefix) for name in os.listdir(directory))
        except FileNotFoundError:
            return False

    return seen


def assert_models_load(project: Path, *sets: str) -> str:
    """This mode's model loads and verifies, and so does every registered version; return its version."""
    layout, settings = _layout(project, *sets)
    metadata = json.loads(layout.model_metadata.read_text())
    registry = ModelRegistry.for_project(settings, layout)
    pipeline = ScoringPipeline.load(registry.version_dir(metadata["model_version"]), metadata["files"])
    assert pipeline.predict_proba(["a perfectly ordinary comment"]).shape == (1, len(pipeline.labels))
    for record in registry.list_versions():  # every registered version is complete and verifies
        ScoringPipeline.load(registry.version_dir(record["version"]), record["files"])
    return metadata["model_version"]


def assert_no_temp_artifacts(project: Path) -> None:
    """Leftover temp files are hidden and never where an artifact is expected."""
    layout, settings = _layout(project)
    for step in Orchestrator(settings, layout).status():
        assert all(".tmp" not in reason for reason in step.reasons), step
    registered = {r["version"] for r in ModelRegistry.for_project(settings, layout).list_versions()}
    for path in (layout.models_dir / "registry").iterdir():
        assert path.name.startswith(".") or path.name in registered, path


def status_reasons(project: Path) -> dict[str, list[str]]:
    """Why each step is stale (empty: up to date), leaving out "code changed" (a checkout being edited)."""
    layout, settings = _layout(project)
    return {
        s.name: [r for r in s.reasons if r != "code changed"]
        + ([s.state] if s.state == "never run" else [])
        for s in Orchestrator(settings, layout).status()
    }


def rerun_completes(project: Path, *sets: str, step: str = "train", only: bool = False) -> str:
    """The next run (all steps, or only ``step``) exits 0 and reruns ``step``; return its log."""
    offset = log_size(project)
    args = [arg for s in sets for arg in ("--set", s)]
    if only:
        args += ["--steps", step]
    result = run_cli("run", "--mode", MODE, "--project-dir", str(project), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    log = log_since(project, offset)
    assert f"step {step} done" in log, log
    assert "run finished" in log and "(ok)" in log
    return log


def train_argv(project: Path) -> list[str]:
    return cli_argv(
        "run",
        "--mode",
        MODE,
        "--project-dir",
        str(project),
        "--steps",
        "train",
        "--set",
        f"model.C={NEW_C}",
    )


def test_kill_during_training_keeps_previous_model(copy_baseline) -> None:
    project = copy_baseline()
    before = assert_models_load(project)
    metadata_before = (project / "models" / METADATA_FILE).read_bytes()
    offset = log_size(project)
    started: list[float] = []

    def training() -> bool:  # half a second into the step, well before anything is written
        if not started and "step train running" in log_since(project, offset):
            started.append(time.monotonic())
        return bool(started) and time.monotonic() - started[0] > 0.5

    assert kill_when(train_argv(project), training), "train finished before the kill"
    assert "step train done" not in log_since(project, offset)
    assert (project / "models" / METADATA_FILE).read_bytes() == metadata_before
    assert assert_models_load(project) == before
    assert_no_temp_artifacts(project)

    log = rerun_completes(project, f"model.C={NEW_C}")
    assert "step evaluate done" in log and "step predict done" in log
    metadata = json.loads((project / "models" / METADATA_FILE).read_text())
    assert metadata["params"]["C"] == float(NEW_C)
    assert assert_models_load(project, f"model.C={NEW_C}") != before


# A version's files are written into a hidden folder and renamed into models/registry/ only when complete;
# the metadata naming the mode's current version is replaced atomically afterwards.
@pytest.mark.parametrize(
    "where, target",
    [
        ("models/registry", "nb_logistic-dev-"),  # the new version's folder, while its files are written
        ("models", METADATA_FILE),  # the metadata that makes it this mode's model
    ],
)
def test_kill_while_model_is_written(copy_baseline, where: str, target: str) -> None:
    """SIGKILL the moment the temp file or folder for ``target`` appears (retry if the window is missed)."""
    for attempt in range(4):
        project = copy_baseline(f"attempt{attempt}")
        before = assert_models_load(project)
        offset = log_size(project)
        caught = kill_when(train_argv(project), temp_beside(project / where, target), poll=0.0005)
        leftovers = [p.name for p in (project / where).iterdir() if p.name.startswith(f".{target}")]
        if caught and leftovers:  # the kill landed mid-write (a small file can be renamed before it lands)
            break
    else:
        pytest.fail(f"never killed while the temp file of {target} existed, in 4 attempts")
    assert "step train done" not in log_since(project, offset)

    assert assert_models_load(project) == before  # the mode's model is still the previous one
    assert_no_temp_artifacts(project)

    rerun_completes(project, f"model.C={NEW_C}", only=True)  # the full run is shown above
    assert assert_models_load(project, f"model.C={NEW_C}") != before


def _enlarge_clean(project: Path, factor: int) -> int:
    """Make the clean data ``factor`` times bigger (new ids), so a load takes long enough to interrupt."""
    path = project / "data" / "interim" / f"clean_{MODE}.parquet"
    clean = pd.read_parquet(path)
    copies = []
    for k in range(factor):
        part = clean.copy()
        part["id"] = part["id"].astype(str) + f"-{k}"
        if "content_hash" in part.columns:
            part["content_hash"] = part["content_hash"].astype(str).str[:56] + f"{k:08d}"
        copies.append(part)
    big = pd.concat(copies, ignore_index=True)
    big.to_parquet(path, index=False)
    return len(big)


def test_kill_during_load_keeps_previous_table(copy_baseline) -> None:
    project = copy_baseline()
    layout, settings = _layout(project)
    table = layout.comments_table(settings.database.table_prefix)
    with Database.from_settings(settings, layout) as db:
        checksum_before = db.table_checksum(table)
        rows_before = len(db.read_table(table))
    assert checksum_before is not None
    big_rows = _enlarge_clean(project, factor=400)
    wal = layout.sqlite_path.with_name(layout.sqlite_path.name + "-wal")
    wal_start = wal.stat().st_size if wal.exists() else 0
    offset = log_size(project)

    def loading() -> bool:  # rows are streaming into the uncommitted staging table
        if "step load running" not in log_since(project, offset):
            return False
        return wal.exists() and wal.stat().st_size > wal_start + (4 << 20)

    argv = cli_argv("run", "--mode", MODE, "--project-dir", str(project), "--steps", "load")
    assert kill_when(argv, loading), "the load finished before the kill"
    assert "step load done" not in log_since(project, offset)

    with Database.from_settings(settings, layout) as db:
        assert db.table_checksum(table) == checksum_before
        assert len(db.read_table(table)) == rows_before
    states = status_reasons(project)
    assert any("clean" in r for r in states["load"]), states["load"]  # stale: its input changed
    assert states["features"] == [], states[
        "features"
    ]  # its input table is the previous, intact one
    shown = run_cli("status", "--mode", MODE, "--project-dir", str(project))
    assert shown.returncode == 0 and "stale" in shown.stdout

    offset = log_size(project)
    result = run_cli("run", "--mode", MODE, "--project-dir", str(project), "--steps", "load")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "step load done" in log_since(project, offset)
    with Database.from_settings(settings, layout) as db:
        assert len(db.read_table(table)) == big_rows
    states = status_reasons(project)
    assert states["load"] == [], states["load"]
    assert any("comments" in r for r in states["features"]), states["features"]  # its table changed
