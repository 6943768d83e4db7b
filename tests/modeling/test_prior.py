"""A declared deployment base rate (train.prevalence): row weights, weighted calibration and
thresholds, and what it does to a model trained on a rebalanced sample."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from socialscore.config import load_settings
from socialscore.errors import ConfigError
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.training.estimators import SocialScoreModel
from socialscore.modeling.training.prior import prior_weights
from socialscore.modeling.training.validation import choose_threshold
from socialscore.steps.train import train_model

INSULTS = ["idiot", "moron", "stupid", "loser", "pathetic", "dumb", "clown", "worthless"]
FRIENDLY = ["thanks", "great", "article", "agree", "source", "helpful", "edit", "nice", "page", "cheers"]
FILLER = ["the", "this", "is", "you", "are", "really", "so", "about", "and", "see", "what", "here"]


def test_prior_weights_give_the_declared_rate_with_mean_weight_one():
    y = np.array([1] * 47 + [0] * 53)
    w = prior_weights(y, 0.1)
    assert w.mean() == pytest.approx(1.0)
    assert (w * y).sum() / w.sum() == pytest.approx(0.1)
    assert w[y == 0][0] > 1 > w[y == 1][0]  # a sample enriched in toxic: negatives count more
    assert prior_weights(y, None) is None
    assert prior_weights(np.zeros(5), 0.1) is None  # one class: no rate to correct


def test_weighted_threshold_is_higher_when_negatives_count_more():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    plain = choose_threshold(y, p, "f1")
    weighted = choose_threshold(y, p, "f1", sample_weight=prior_weights(y, 0.1))
    assert plain == pytest.approx(0.35)
    assert weighted == pytest.approx(0.6)


def test_weighted_calibration_averages_to_the_declared_rate():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.5).astype(int)
    raw = rng.normal(2.0 * y - 1.0, 1.0)
    model = SocialScoreModel("nb_logistic", ["toxic"], "toxic", {})
    w = prior_weights(y, 0.1)
    p = model.calibrate(raw[:, None], y[:, None], sample_weight=w).calibrated(raw[:, None])[:, 0]
    assert (w * p).sum() / w.sum() == pytest.approx(0.1, abs=1e-3)
    p_plain = model.calibrate(raw[:, None], y[:, None]).calibrated(raw[:, None])[:, 0]
    assert p_plain.mean() == pytest.approx(y.mean(), abs=1e-3)
    assert np.all(p < p_plain)  # same ranking, lower probabilities


def test_prevalence_key_is_validated_and_declared_by_the_modes():
    assert load_settings("dev", overrides=[{"train": {"prevalence": 0.2}}]).train.prevalence == 0.2
    with pytest.raises(ConfigError):
        load_settings("dev", overrides=[{"train": {"prevalence": 1.5}}])
    for mode in ("dev", "prod"):
        assert load_settings(mode).train.prevalence == pytest.approx(0.1)
    assert load_settings("prod", overrides=[{"train": {"prevalence": None}}]).train.prevalence is None


def _texts(rng: np.random.Generator, n: int, toxic_rate: float) -> tuple[list[str], np.ndarray]:
    texts, y = [], (rng.random(n) < toxic_rate).astype(np.int8)
    for toxic in y:
        words = list(rng.choice(FILLER, size=rng.integers(3, 8)))
        if rng.random() < 0.8:  # a fifth of the comments carry no signal either way
            words += list(rng.choice(INSULTS if toxic else FRIENDLY, size=rng.integers(1, 3)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, y


def test_declared_rate_stops_flagging_texts_without_signal_on_a_rebalanced_sample():
    rng = np.random.default_rng(1)
    train_texts, y_train = _texts(rng, 800, 0.5)  # a sample rebalanced to half toxic
    test_texts, y_test = _texts(rng, 400, 0.5)
    plain = ["you are really here", "see this and that", "what is this about", "so you are here"]
    builder = FeatureBuilder()
    X = builder.fit_transform(train_texts)
    results = {}
    for prevalence in (None, 0.05):
        settings = load_settings("dev", overrides=[{"train": {"prevalence": prevalence}}])
        model, report = train_model(X, y_train[:, None], ["toxic"], settings)
        p_plain = model.predict_proba(builder.transform(plain))[:, 0]
        p_test = model.predict_proba(builder.transform(test_texts))[:, 0]
        results[prevalence] = (int((p_plain >= model.threshold).sum()), roc_auc_score(y_test, p_test), p_plain)
        assert report["prevalence"]["declared"] == prevalence
    flagged_before, auc_before, p_before = results[None]
    flagged_after, auc_after, p_after = results[0.05]
    assert flagged_before >= 2, results  # the rebalanced sample's threshold flags texts with no signal
    assert flagged_after == 0, results
    assert auc_after == pytest.approx(auc_before, abs=1e-9)  # a monotone correction: ranking unchanged
    assert np.all(p_after < p_before)
