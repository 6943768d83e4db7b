"""A small real scoring pipeline (FeatureBuilder + SocialScoreModel) for step tests, and the two ways
the steps find one: a registered version's folder, and an export where the API and predict read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
from socialscore.modeling.training.estimators import SocialScoreModel
from socialscore.registry.serving import export_pipeline


def small_pipeline(texts: list[str], Y: np.ndarray, labels: list[str], version: str = "v1") -> ScoringPipeline:
    featurizer = FeatureBuilder(word_ngram_range=(1, 1), char_ngram_range=(2, 3), min_df=1)
    X = featurizer.fit_transform(texts)
    params = {"solver": "liblinear", "C": 4.0, "n_jobs": 1, "random_state": 0}
    model = SocialScoreModel("logistic_regression", labels, labels[0], params).fit(X, Y)
    return ScoringPipeline(TextRules(), featurizer, model, {label: 0.5 for label in labels}, 0.7,
                           {"model_version": version})


def register_for_step(pipeline: ScoringPipeline, registry: Any, metadata_path: Path) -> None:
    """What the train step leaves for evaluate/predict: the version folder, its registry record and the
    metadata naming it."""
    files = pipeline.save(registry.version_dir(pipeline.version))
    registry.register({"version": pipeline.version, "mode": "dev", "model_type": "test", "files": files,
                       "config": {}, "data": {}, "code": {}, "metrics": {}})
    metadata_path.parent.mkdir(parents=True, exist_ok=True)
    metadata_path.write_text(json.dumps({"model_version": pipeline.version, "files": files}))


def export_for_serving(pipeline: ScoringPipeline, models_dir: Path) -> Path:
    export_pipeline(pipeline, models_dir, {"model_version": pipeline.version, "alias": "production"})
    return models_dir
