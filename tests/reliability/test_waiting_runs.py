"""A run that waited for the lock (``run --wait``) finds the first run's results in the cache.

Two ``run --mode prod --wait`` started together used to train twice: the second had read the step
state before it waited, so it did not see what the first one wrote, and it promoted an identical copy.
"""

from __future__ import annotations

from pathlib import Path

from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.orchestrator import Orchestrator

TRAINED: list[str] = []
ARTIFACTS = {"model": Artifact("model", "json", "train", lambda lay, s: lay.processed("model", "json"))}


def train(ctx: StepContext) -> None:
    TRAINED.append(ctx.run_id or "")
    ctx.write("model", {"weights": [1, 2, 3]})


STEPS = (StepSpec("train", reads=(), writes=("model",), config=("train.cv_folds",), run=train),)


def test_the_second_of_two_waiting_runs_is_served_from_the_cache(project_dir: Path) -> None:
    settings = load_settings("dev", project_dir)
    first = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=STEPS, artifacts=ARTIFACTS)
    second = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=STEPS, artifacts=ARTIFACTS)  # started together
    TRAINED.clear()
    assert [o.outcome for o in first.run(wait=True).steps] == ["ran"]
    assert [o.outcome for o in second.run(wait=True).steps] == ["cached"]  # was "ran": a second training
    assert len(TRAINED) == 1
