"""A tiny but real serving bundle for API tests and benchmarks (no pipeline needed).

The project's own FeatureBuilder (word + char n-grams) and one logistic regression per label, trained in
well under a second on generated comments, wrapped in a ScoringPipeline and exported like a promotion.
"""

from __future__ import annotations

import random
from pathlib import Path

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
_NICE = ["thanks for the edit", "great point", "I agree with this section", "nice work on the article",
         "could you add a source", "welcome to the project", "this reads much better now", "good catch"]
_NASTY = ["you are an idiot", "shut up you moron", "I will hurt you", "this is garbage you fool",
          "go away loser", "you stupid clown", "what a pathetic idiot", "nobody likes you moron"]


def _samples(n: int, seed: int) -> tuple[list[str], list[list[int]]]:
    rng = random.Random(seed)
    texts, targets = [], []
    for i in range(n):
        nasty = i % 2 == 0
        words = rng.sample(_NASTY if nasty else _NICE, 2)
        texts.append(" and ".join(words))
        flags = [int(nasty), int(nasty and i % 6 == 0), int(nasty and i % 4 == 0),
                 int(nasty and "hurt" in texts[-1]), int(nasty), int(nasty and i % 10 == 0)]
        targets.append(flags)
    return texts, targets


def build_tiny_pipeline(version: str = "tiny-1", threshold: float = 0.5, nltk_resources: list[str] | None = None):
    """A real ScoringPipeline (FeatureBuilder + SocialScoreModel) trained on the generated comments."""
    import numpy as np

    from socialscore.modeling.featurizers.features import FeatureBuilder
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
    from socialscore.modeling.training.estimators import SocialScoreModel

    texts, targets = _samples(400, seed=7)
    preprocess = {"remove_stopwords": "stopwords" in (nltk_resources or [])}
    featurizer = FeatureBuilder(preprocess=preprocess, word_ngram_range=(1, 2), char_ngram_range=(2, 4), min_df=1)
    features = featurizer.fit_transform(texts)
    params = {"solver": "liblinear", "C": 4.0, "n_jobs": 1, "random_state": 0}
    model = SocialScoreModel("logistic_regression", LABELS, "toxic", params, threshold=threshold)
    model.fit(features, np.array(targets))
    card = {"model_version": version, "trained_at": "2026-01-01T00:00:00+00:00"}
    return ScoringPipeline(TextRules(), featurizer, model, {label: threshold for label in LABELS}, 0.7, card)


def build_tiny_bundle(models_dir: Path, version: str = "tiny-1", threshold: float = 0.5,
                      nltk_resources: list[str] | None = None) -> Path:
    """Train a tiny pipeline and export it to ``models_dir`` as a promotion would; return the directory."""
    from socialscore.registry.serving import export_pipeline

    pipeline = build_tiny_pipeline(version, threshold, nltk_resources)
    manifest = {"model_version": version, "alias": "production", "trained_at": pipeline.card["trained_at"],
                "metrics": {"toxic": {"roc_auc": 0.99, "f1": 0.95}}}
    export_pipeline(pipeline, Path(models_dir), manifest)
    return Path(models_dir)


def build_forest_bundle(models_dir: Path, version: str = "forest-1") -> Path:
    """A random-forest pipeline (no exact decomposition of its scores: it cannot explain them)."""
    import numpy as np

    from socialscore.modeling.featurizers.features import FeatureBuilder
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
    from socialscore.modeling.training.estimators import SocialScoreModel
    from socialscore.registry.serving import export_pipeline

    texts, targets = _samples(200, seed=3)
    featurizer = FeatureBuilder(word_ngram_range=(1, 1), char_ngram_range=None, min_df=1)
    params = {"n_estimators": 10, "max_depth": 6, "class_weight": None, "n_jobs": 1, "random_state": 0,
              "max_selected_features": 200}
    model = SocialScoreModel("random_forest", LABELS, "toxic", params).fit(featurizer.fit_transform(texts), np.array(targets))
    pipeline = ScoringPipeline(TextRules(), featurizer, model, {label: 0.5 for label in LABELS}, 0.7,
                               {"model_version": version})
    export_pipeline(pipeline, Path(models_dir), {"model_version": version, "alias": "production"})
    return Path(models_dir)


def build_linear_bundle(models_dir: Path, version: str = "linear-1") -> Path:
    """The same comments through socialscore's own FeatureBuilder and nb_logistic model (dev settings),
    exported like a promotion: a model whose scores the API can explain (``explain: true``)."""
    import numpy as np

    from socialscore.config import load_settings
    from socialscore.modeling.featurizers.features import FeatureBuilder
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
    from socialscore.registry.serving import export_pipeline
    from socialscore.steps.train import train_model

    texts, targets = _samples(400, seed=7)
    settings = load_settings("dev")
    builder = FeatureBuilder.from_settings(settings)
    model, report = train_model(builder.fit_transform(texts), np.array(targets), LABELS, settings)
    card = {"model_version": version, "trained_at": "2026-01-01T00:00:00+00:00"}
    pipeline = ScoringPipeline(TextRules(), builder, model, report["thresholds"], 0.7, card)
    export_pipeline(pipeline, Path(models_dir), {"model_version": version, "alias": "production"})
    return Path(models_dir)


if __name__ == "__main__":  # python tests/api/tiny_bundle.py <models_dir>
    import sys

    print(build_tiny_bundle(Path(sys.argv[1])))
