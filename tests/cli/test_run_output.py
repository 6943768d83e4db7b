"""What a run prints: an error once, no 0.00 step times, the rows used, the served model files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.orchestrator import Orchestrator, RunSummary, StepOutcome
from socialscore.terminal.app import app
from socialscore.terminal.summary import format_seconds, print_summary

runner = CliRunner()


def _run(project: Path, *args: str):
    return runner.invoke(app, ["run", *args, "--project-dir", str(project)], env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    "args, message",
    [
        (("--data", "nope.csv", "--steps", "extract"), "data file not found"),
        (("--set", "train.cv_fold=3", "--steps", "extract"), "unknown key 'train.cv_fold'"),
        (("--steps", "train"), "which does not exist"),
    ],
)
def test_an_error_is_printed_once(project_dir: Path, args: tuple[str, ...], message: str) -> None:
    result = _run(project_dir, *args)
    assert result.exit_code == 1
    assert result.output.count(message) == 1, result.output
    assert "Traceback" not in result.output
    if (project_dir / "logs/pipeline_dev.log").exists() and "--set" not in args:
        assert message in (project_dir / "logs/pipeline_dev.log").read_text()  # the log keeps it


def test_small_times_never_show_zero() -> None:
    assert format_seconds(0.0004) == "<0.01" and format_seconds(0.0) == "<0.01"
    assert format_seconds(0.005) == "0.01" and format_seconds(12.345) == "12.35"


def _printed(summary: RunSummary) -> str:
    out = io.StringIO()
    print_summary(Console(file=out, width=200), summary)
    return out.getvalue()


def test_summary_of_a_cached_run_has_no_zero_times() -> None:
    steps = [StepOutcome("extract", "cached", 0.0012), StepOutcome("transform", "cached", 0.0031)]
    text = _printed(RunSummary("dev", steps, 0.0123, []))
    assert "0.00" not in text and text.count("<0.01") == 2 and "0.01" in text


def test_banner_sample_matches_the_rows_used(project_dir: Path) -> None:
    rows = ["text,label"] + [f"comment number {i} {'you idiot' if i % 3 == 0 else 'thanks'},{int(i % 3 == 0)}"
                             for i in range(120)]
    (project_dir / "small.csv").write_text("\n".join(rows) + "\n")
    result = _run(project_dir, "--data", str(project_dir / "small.csv"), "--steps", "extract,transform")
    assert result.exit_code == 0, result.output
    facts = json.loads(Layout(project_dir, "dev").state_file.read_text())["steps"]["transform"]["facts"]
    claimed = [int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) rows", result.output)]
    assert "5,000 rows" not in result.output.replace("up to 5,000 rows", "")  # no claim of a 5,000-row sample
    assert f"rows used: {facts['rows_kept']:,} of {facts['rows_in']:,}" in result.output
    assert facts["rows_kept"] in claimed


ARTS = {"note": Artifact("note", "json", "promote", lambda lay, s: lay.interim("note", "json"))}


def _promote(ctx: StepContext) -> None:
    """Stands in for evaluate: exports a 'production' model and says so in its facts."""
    models = ctx.layout.models_dir
    models.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.json", "arrays.npz"):
        (models / name).write_text("x")
    (models / "bundle.json").write_text(json.dumps({"files": {"pipeline.json": "h1", "arrays.npz": "h2"}}))
    ctx.write("note", {"ok": True})
    ctx.fact("promoted", ["production"])


def test_files_include_the_served_model_when_a_run_promoted(project_dir: Path) -> None:
    steps = (StepSpec("promote", reads=(), writes=("note",), config=(), run=_promote),)
    orchestrator = Orchestrator(load_settings("dev", project_dir), Layout(project_dir, "dev"), steps=steps, artifacts=ARTS)
    summary = orchestrator.run()
    assert summary.ok, summary.error
    assert {"models/bundle.json", "models/pipeline.json", "models/arrays.npz"} <= set(summary.files)
    assert "models/bundle.json" in _printed(summary)
