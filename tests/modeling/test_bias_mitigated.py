"""The issue's defects on real comments: the default mitigations (features.*) against none.

Trained through the pipeline's own functions (mitigate_train_split → build_features → train_model) on
4,000 rows of the shared Jigsaw sample with dev settings; scored on the evaluation probes, which are
disjoint from the augmentation sentences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialscore.config import load_settings
from socialscore.modeling.behaviour.bias import bias_report
from socialscore.modeling.behaviour.mitigation import mitigate_train_split
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.steps.features import build_features
from socialscore.steps.train import train_model

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
OFF = {"identity_augmentation": 0, "identity_terms_in_lexicon": True, "negative_repeats": 1}


@pytest.fixture(scope="module")
def comments(shared_file) -> pd.DataFrame:
    frame = pd.read_csv(shared_file("data/jigsaw/cleaned_training_sample.csv"), keep_default_na=False)
    frame = frame.sample(4000, random_state=0).reset_index(drop=True)
    out = pd.DataFrame({"id": [f"{i:05d}" for i in range(len(frame))], "text": frame["anonymized_comment"]})
    out["split"] = np.where(np.arange(len(out)) % 5 == 0, "test", "train")
    for label in LABELS:
        out[f"label_{label}"] = frame[label].astype(np.int8)
    return out


def _train(comments: pd.DataFrame, overrides: dict) -> tuple:
    settings = load_settings("dev", overrides=[{"features": overrides}] if overrides else None)
    builder = FeatureBuilder.from_settings(settings)
    X, y, rows, _ = build_features(mitigate_train_split(comments, settings.features), builder)
    train = (rows["split"] == "train").to_numpy()
    model, _ = train_model(X[train], y[train], LABELS, settings)

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(builder.transform(texts))[:, 0]

    test_auc = held_out_auc(y[~train, 0], model.predict_proba(X[~train])[:, 0])
    return score, model.threshold, test_auc


def held_out_auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


@pytest.fixture(scope="module")
def both(comments):
    return {"off": _train(comments, OFF), "default": _train(comments, {})}


def test_defaults_turn_the_mitigations_on():
    features = load_settings("prod").features
    assert (features.identity_augmentation, features.identity_terms_in_lexicon, features.negative_repeats) != (
        OFF["identity_augmentation"], OFF["identity_terms_in_lexicon"], OFF["negative_repeats"])


@pytest.mark.slow
def test_identity_statements_are_flagged_less_and_ranked_fairer(both):
    reports = {name: bias_report(score, threshold)["summary"] for name, (score, threshold, _) in both.items()}
    assert reports["default"]["identity_fpr"] < reports["off"]["identity_fpr"], reports
    assert reports["default"]["worst_bpsn_auc"] > reports["off"]["worst_bpsn_auc"], reports
    assert reports["default"]["kind_flagged"] <= reports["off"]["kind_flagged"], reports


def test_the_issue_examples_score_lower_and_none_is_flagged(both):
    texts = ["I love my gay friends", "you are a genius"]
    off_score, off_threshold, _ = both["off"]
    score, threshold, _ = both["default"]
    assert (score(texts) < off_score(texts)).all(), (score(texts), off_score(texts))
    assert (off_score(texts) >= off_threshold).any()  # without the mitigations one of them is flagged
    # the first-person statement is not flagged, but does not score lower than without the mitigations
    # (docs/benchmarks.md, "Bias and mitigation": the extended augmentation moves it up a little)
    issue = [*texts, "I am a proud muslim woman"]
    assert (score(issue) < threshold).all(), (score(issue), threshold)


def test_held_out_quality_is_kept(both):
    assert both["default"][2] >= both["off"][2] - 0.005
