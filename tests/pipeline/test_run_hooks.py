"""Hooks around a run: called directly, in order, inside the run; the default ones record the run."""

from __future__ import annotations

import json
from pathlib import Path

from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.hooks import RunParams
from socialscore.pipeline.orchestrator import Orchestrator, RunSummary
from socialscore.registry.store import ModelRegistry

ARTS = {"numbers": Artifact("numbers", "json", "make", lambda lay, s: lay.interim("numbers", "json"))}


def make(ctx: StepContext) -> None:
    ctx.write("numbers", [1, 2, 3])


STEPS = (StepSpec("make", reads=(), writes=("numbers",), config=(), run=make),)


class Recorder:
    def __init__(self, calls: list[tuple]) -> None:
        self.calls = calls

    def before_pipeline_run(self, run: RunParams) -> None:
        self.calls.append(("before", run.run_id, run.mode, run.requested, bool(run.code_version)))

    def after_pipeline_run(self, run: RunParams, summary: RunSummary) -> None:
        self.calls.append(("after", run.run_id, [(o.name, o.outcome) for o in summary.steps]))


def test_hooks_are_called_around_the_run_in_order(project_dir: Path) -> None:
    calls: list[tuple] = []
    settings = load_settings("dev", project_dir)
    orch = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=STEPS, artifacts=ARTS,
                        hooks=[Recorder(calls), Recorder(calls)])
    orch.run()
    run_id = orch.run_id
    assert calls == [("before", run_id, "dev", ["make"], True)] * 2 + [("after", run_id, [("make", "ran")])] * 2


def test_the_default_hooks_record_the_run_in_the_registry(project_dir: Path) -> None:
    settings = load_settings("dev", project_dir)
    layout = Layout.for_settings(settings, project_dir)
    orch = Orchestrator(settings, layout, steps=STEPS, artifacts=ARTS)
    orch.run()
    (row,) = ModelRegistry.for_project(settings, layout).list_runs("dev")
    assert row["run_id"] == orch.run_id and row["status"] == "ok"
    steps = row["steps"] if isinstance(row["steps"], dict) else json.loads(row["steps"])
    assert steps["outcomes"]["make"]["outcome"] == "ran"  # finish_run replaces start_run's "requested"
