"""A single-text call through the serving entry point builds one sparse matrix (the featurizer's) and
no scikit-learn configuration context for a linear model: the per-call costs a lone text pays."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from tiny_bundle import LABELS, _samples  # noqa: E402

from socialscore.api.deps import score_pipeline  # noqa: E402
from socialscore.modeling.featurizers.hash_kernel import compiled_available  # noqa: E402

TEXTS = ["you are an idiot!!", "thanks for the edit [URL]", "Ты идиот", ""]


def pipeline_with(featurizer):
    from socialscore.modeling.behaviour.language import LanguageProfile
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
    from socialscore.modeling.training.estimators import SocialScoreModel

    texts, targets = _samples(300, seed=3)
    features = featurizer.fit_transform(TextRules().apply(texts))
    params = {"solver": "liblinear", "C": 4.0, "n_jobs": 1, "random_state": 0}
    model = SocialScoreModel("logistic_regression", LABELS, "toxic", params, threshold=0.5).fit(features, np.array(targets))
    profile = LanguageProfile.from_texts(texts).to_state()
    return ScoringPipeline(TextRules(), featurizer, model, {label: 0.5 for label in LABELS}, 0.7, languages=profile)


def vocabulary():
    from socialscore.modeling.featurizers.features import FeatureBuilder

    return FeatureBuilder(min_df=1)


def hashing():
    from socialscore.modeling.featurizers.hashing import HashingFeaturizer

    return HashingFeaturizer(hash_bits=14, min_df=1)


@pytest.mark.skipif(not compiled_available(), reason="numba is not importable")
@pytest.mark.parametrize("make", [vocabulary, hashing], ids=["vocabulary", "hashing"])
def test_one_text_is_one_sparse_build_and_no_sklearn_context(monkeypatch, make):
    import sklearn

    pipeline = pipeline_with(make())
    expected = [pipeline.score([text]).probabilities for text in TEXTS]
    builds, contexts = [], []
    real_init, real_context = sp.csr_matrix.__init__, sklearn.config_context
    monkeypatch.setattr(sp.csr_matrix, "__init__", lambda self, *a, **k: builds.append(1) or real_init(self, *a, **k))
    monkeypatch.setattr(sklearn, "config_context", lambda **k: contexts.append(k) or real_context(**k))
    for text, probabilities in zip(TEXTS, expected, strict=True):
        builds.clear()
        scores = score_pipeline(pipeline, [text])
        assert len(builds) == 1, text
        assert np.array_equal(scores.probabilities, probabilities)
    assert contexts == []  # a linear model never enters scikit-learn's configuration context
