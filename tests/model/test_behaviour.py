"""Model behaviour on real comments: insults score above praise; case and spacing do not matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialscore.config import load_settings
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.steps.train import train_model

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@pytest.fixture(scope="module")
def scorer(shared_file):
    """A dev-settings model trained on 3,000 rows of the shared Jigsaw sample."""
    path = shared_file("data/jigsaw/cleaned_training_sample.csv")
    frame = pd.read_csv(path, keep_default_na=False).sample(3000, random_state=0)
    builder = FeatureBuilder.from_settings(load_settings("dev"))
    X = builder.fit_transform(frame["anonymized_comment"].tolist())
    model, _ = train_model(X, frame[LABELS].to_numpy(), LABELS, load_settings("dev"))

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(builder.transform(texts))[:, model.labels.index("toxic")]

    return score


@pytest.mark.slow
@pytest.mark.parametrize(
    ("worse", "better"),
    [
        ("you are an idiot", "you are a genius"),
        ("you are a stupid moron", "you are a kind person"),
        ("shut up you loser", "thanks for your help"),
        ("you 1d10t", "you genius"),
        ("I hate you, go die", "I like this article"),
    ],
)
def test_insults_score_above_praise(scorer, worse: str, better: str) -> None:
    low, high = scorer([better, worse])
    assert high > low


def test_invariant_to_case_and_surrounding_spaces(scorer) -> None:
    variants = ["you are an idiot", "You Are An Idiot", "YOU ARE AN IDIOT", "you are an idiot   ", "  you are an idiot"]
    scores = scorer(variants)
    assert np.allclose(scores, scores[0], atol=1e-9)


def test_odd_inputs_get_valid_probabilities(scorer) -> None:
    texts = ["", "🙂🙂🙂", "!!!???", "a" * 10_000, "idiot " * 2_000, "[URL] [EMAIL] [USER]"]
    scores = scorer(texts)
    assert scores.shape == (len(texts),) and np.isfinite(scores).all()
    assert ((scores >= 0) & (scores <= 1)).all()


def test_one_text_scores_as_in_a_batch(scorer) -> None:
    batch = scorer(["you are an idiot", "what a nice day", "thanks"])
    assert scorer(["what a nice day"])[0] == pytest.approx(batch[1], abs=1e-9)
