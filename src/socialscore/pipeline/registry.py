"""The seven steps, in pipeline order, with what each reads, writes and depends on.

Adapters are named as ``module:function`` and imported only when the step runs, so a fully cached
run never imports pandas or scikit-learn.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.storage.sources import extract_sources, resolve_input

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout


def _lazy(target: str):
    module_name, func_name = target.split(":")

    def run(ctx: StepContext) -> None:
        getattr(importlib.import_module(module_name), func_name)(ctx)

    run.__qualname__ = target
    run.target_module = module_name  # type: ignore[attr-defined]  # what the step's code fingerprint hashes
    return run


def predict_sources(layout: Layout, settings: Settings) -> list[Path]:
    found = resolve_input(layout, settings)
    return [found] if found else []


STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        "extract",
        reads=(),
        writes=("raw",),
        config=("data",),
        run=_lazy("socialscore.steps.extract:run"),
        sources=extract_sources,
        description="read the CSV file(s) into one table",
    ),
    StepSpec(
        "transform",
        reads=("raw",),
        writes=("clean", "rejected"),
        config=("transform",),
        run=_lazy("socialscore.steps.transform:run"),
        engines={"beam": _lazy("socialscore.beam.transform:run")},
        description="normalise, scrub PII, de-duplicate, validate labels, split",
    ),
    StepSpec(
        "load",
        reads=("clean",),
        writes=("comments",),
        config=("database.table_prefix",),
        run=_lazy("socialscore.steps.load:run"),
        description="write the comments to the database",
    ),
    StepSpec(
        "features",
        reads=("comments",),
        writes=("features", "labels", "rows", "features_metadata", "vectorizer"),
        config=("preprocess", "features"),
        run=_lazy("socialscore.steps.features:run"),
        engines={"beam": _lazy("socialscore.beam.features:run")},
        description="fit TF-IDF and engineered features on the train split",
    ),
    StepSpec(
        "train",
        reads=("features", "labels", "rows", "features_metadata", "vectorizer"),
        writes=("model_metadata", "model"),
        config=(
            "model", "train", "predict.high_risk", "transform.unicode_form", "transform.scrub_pii",
            "gate.min_train_rows", "gate.min_positives", "gate.override",
        ),
        run=_lazy("socialscore.steps.train:run"),
        description="check the data, cross-validate, pick thresholds, fit, register a model version",
    ),
    StepSpec(
        "evaluate",
        reads=("comments", "features", "labels", "rows", "features_metadata", "model_metadata", "model"),
        writes=("metrics", "figures", "report"),
        config=("evaluate", "gate", "registry"),
        run=_lazy("socialscore.steps.evaluate:run"),
        description="score the held-out split, run the quality gate, promote, write the report",
    ),
    StepSpec(
        "predict",
        reads=("comments", "rows", "model_metadata", "model"),
        writes=("predictions", "predictions_table"),
        config=("predict",),
        run=_lazy("socialscore.steps.predict:run"),
        sources=predict_sources,
        description="score new comments (data/raw/prod.csv) or the test split",
    ),
)

STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)
BY_NAME: dict[str, StepSpec] = {step.name: step for step in STEPS}
