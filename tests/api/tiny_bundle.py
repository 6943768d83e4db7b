"""A tiny but real serving bundle for API tests and benchmarks (no pipeline needed).

TF-IDF (word + char n-grams) and one logistic regression per label, trained in well under a second
on generated comments; saved with socialscore.bundle.save_bundle like the pipeline does. Only
scikit-learn classes are pickled, so any process can load it.
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


def build_tiny_bundle(models_dir: Path, version: str = "tiny-1", threshold: float = 0.5,
                      nltk_resources: list[str] | None = None) -> Path:
    """Train and save a tiny bundle in ``models_dir``; return the directory."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion

    from socialscore.bundle import save_bundle

    texts, targets = _samples(400, seed=7)
    vectorizer = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), lowercase=True, sublinear_tf=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
    ])
    features = vectorizer.fit_transform(texts)
    model = OneVsRestClassifier(LogisticRegression(C=4.0, max_iter=200)).fit(features, np.array(targets))
    manifest = {
        "model_version": version,
        "labels": LABELS,
        "primary_label": "toxic",
        "threshold": threshold,
        "trained_at": "2026-01-01T00:00:00+00:00",
        "metrics": {"roc_auc": 0.99, "f1": 0.95},
        "nltk_resources": nltk_resources or [],
    }
    save_bundle(Path(models_dir), model, vectorizer, manifest)
    return Path(models_dir)


def build_linear_bundle(models_dir: Path, version: str = "linear-1") -> Path:
    """The same comments through socialscore's own FeatureBuilder and nb_logistic model (dev settings):
    a bundle whose scores the API can explain (``explain: true``)."""
    import numpy as np

    from socialscore.bundle import save_bundle
    from socialscore.config import load_settings
    from socialscore.features import FeatureBuilder
    from socialscore.steps.train import train_model

    texts, targets = _samples(400, seed=7)
    settings = load_settings("dev")
    builder = FeatureBuilder.from_settings(settings)
    model, _ = train_model(builder.fit_transform(texts), np.array(targets), LABELS, settings)
    manifest = {
        "model_version": version,
        "labels": model.labels,
        "primary_label": model.primary_label,
        "threshold": model.threshold,
        "trained_at": "2026-01-01T00:00:00+00:00",
        "metrics": {"roc_auc": 0.99, "f1": 0.95},
        "nltk_resources": [],
    }
    save_bundle(Path(models_dir), model, builder, manifest)
    return Path(models_dir)


if __name__ == "__main__":  # python tests/api/tiny_bundle.py <models_dir>
    import sys

    print(build_tiny_bundle(Path(sys.argv[1])))
