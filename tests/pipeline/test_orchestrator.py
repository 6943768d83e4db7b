"""The orchestrator on two small fake steps: order, caching, staleness reasons, --force, missing inputs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from socialscore.config import load_settings, parse_override
from socialscore.errors import DataError
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.orchestrator import Orchestrator, select_steps
from socialscore.pipeline.registry import STEP_NAMES

CALLS: list[str] = []
FAIL_ADD: list[bool] = []

ARTS = {
    "numbers": Artifact("numbers", "json", "make", lambda lay, s: lay.interim("numbers", "json")),
    "total": Artifact("total", "json", "add", lambda lay, s: lay.processed("total", "json")),
}


def make(ctx: StepContext) -> None:
    CALLS.append("make")
    ctx.write("numbers", list(range(ctx.settings.train.cv_folds)))


def add(ctx: StepContext) -> None:
    CALLS.append("add")
    numbers = ctx.read("numbers")
    if FAIL_ADD:
        raise DataError("numbers are bad")
    ctx.write("total", {"total": sum(numbers)})
    ctx.fact("total", sum(numbers))


STEPS = (
    StepSpec("make", reads=(), writes=("numbers",), config=("train.cv_folds",), run=make),
    StepSpec("add", reads=("numbers",), writes=("total",), config=(), run=add),
)


def orchestrator(project: Path, *sets: str) -> Orchestrator:
    settings = load_settings("dev", project, [parse_override(s) for s in sets])
    return Orchestrator(settings, Layout.for_settings(settings, project), steps=STEPS, artifacts=ARTS)


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    FAIL_ADD.clear()


def test_runs_in_order_then_caches(project_dir: Path) -> None:
    first = orchestrator(project_dir).run()
    assert [o.outcome for o in first.steps] == ["ran", "ran"]
    assert CALLS == ["make", "add"]
    assert json.loads((project_dir / "data/processed/total_dev.json").read_text()) == {"total": 3}

    second = orchestrator(project_dir).run()
    assert [o.outcome for o in second.steps] == ["cached", "cached"]
    assert CALLS == ["make", "add"]
    assert second.steps[1].facts == {"total": 3}


def test_config_change_reruns_only_dependent_work(project_dir: Path) -> None:
    orchestrator(project_dir).run()
    CALLS.clear()
    summary = orchestrator(project_dir, "train.cv_folds=4").run()
    assert CALLS == ["make", "add"]
    assert summary.steps[0].reason == "config train.cv_folds changed"
    assert summary.steps[1].reason == "input numbers changed"

    CALLS.clear()
    # a config key that no step reads changes nothing
    summary = orchestrator(project_dir, "train.cv_folds=4", "model.C=9").run()
    assert CALLS == []


def test_status_explains_staleness(project_dir: Path) -> None:
    assert [s.state for s in orchestrator(project_dir).status()] == ["never run", "never run"]
    orchestrator(project_dir).run()
    assert [s.state for s in orchestrator(project_dir).status()] == ["up to date", "up to date"]
    status = orchestrator(project_dir, "train.cv_folds=5").status()
    assert status[0].state == "stale" and status[0].reasons == ["config train.cv_folds changed"]
    # the second step's input is unchanged until the first reruns
    assert status[1].state == "up to date"


def test_tampered_output_is_rebuilt(project_dir: Path) -> None:
    orchestrator(project_dir).run()
    target = project_dir / "data/processed/total_dev.json"
    target.write_text('{"total": 999}')
    CALLS.clear()
    summary = orchestrator(project_dir).run()
    assert CALLS == ["add"]
    assert "output total was changed" in summary.steps[1].reason
    assert json.loads(target.read_text()) == {"total": 3}


def test_force_named_step(project_dir: Path) -> None:
    orchestrator(project_dir).run()
    CALLS.clear()
    orchestrator(project_dir).run(force=["add"])
    assert CALLS == ["add"]
    CALLS.clear()
    orchestrator(project_dir).run(force=True)
    assert CALLS == ["make", "add"]


def test_missing_input_names_the_step_to_run_first(project_dir: Path) -> None:
    summary = orchestrator(project_dir).run(steps=["add"])
    assert not summary.ok
    assert summary.steps[0].outcome == "failed"
    assert "run step 'make' first" in summary.error


def test_failure_stops_the_run_and_keeps_earlier_state(project_dir: Path) -> None:
    orchestrator(project_dir).run()
    FAIL_ADD.append(True)
    summary = orchestrator(project_dir, "train.cv_folds=2").run()
    assert [o.outcome for o in summary.steps] == ["ran", "failed"]
    assert summary.error == "numbers are bad"
    status = orchestrator(project_dir, "train.cv_folds=2").status()
    assert status[0].state == "up to date"
    assert status[1].state == "never run"  # its record was dropped before it ran
    FAIL_ADD.clear()
    assert [o.outcome for o in orchestrator(project_dir, "train.cv_folds=2").run().steps] == ["cached", "ran"]


def test_steps_are_selected_in_pipeline_order() -> None:
    chosen = select_steps(["predict", "extract", "train"])
    assert [s.name for s in chosen] == ["extract", "train", "predict"]
    assert STEP_NAMES == ("extract", "transform", "load", "features", "train", "evaluate", "predict")
    with pytest.raises(Exception, match="unknown step 'trian'"):
        select_steps(["trian"])


def test_modes_keep_separate_state(project_dir: Path) -> None:
    orchestrator(project_dir).run()
    settings = load_settings("prod", project_dir)
    prod = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=STEPS, artifacts=ARTS)
    assert [s.state for s in prod.status()] == ["never run", "never run"]
    prod.run()
    assert json.loads((project_dir / "data/processed/total_prod.json").read_text()) == {"total": 10}
    assert json.loads((project_dir / "data/processed/total_dev.json").read_text()) == {"total": 3}


def test_a_layout_of_another_mode_than_the_settings_is_refused(project_dir: Path) -> None:
    """The mode is held once: a dev layout under prod settings would write dev files for a prod run."""
    settings = load_settings("prod", project_dir)
    with pytest.raises(ValueError, match="layout mode 'dev' differs from the settings' mode 'prod'"):
        Orchestrator(settings, Layout(project_dir, "dev"), steps=STEPS, artifacts=ARTS)
    assert Layout.for_settings(settings, project_dir).mode == "prod"


def test_log_lines_are_written(project_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("socialscore").propagate = True
    with caplog.at_level(logging.INFO, logger="socialscore"):
        orchestrator(project_dir).run()
    assert any("step make done" in r.getMessage() for r in caplog.records)


def test_status_reports_an_unreachable_database_per_step(project_dir: Path) -> None:
    from socialscore.pipeline.registry import STEPS as REAL_STEPS

    settings = load_settings(
        "dev", project_dir, [parse_override("database.url=postgresql://u:secret@127.0.0.1:1/x")]
    )
    rows = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=REAL_STEPS).status()
    by_name = {r.name: r for r in rows}
    assert by_name["extract"].state == "never run"
    assert by_name["features"].state == "blocked"
    assert "127.0.0.1:1" in by_name["features"].reasons[0]
    assert all("secret" not in "".join(r.reasons) for r in rows)
