"""Explanations: exact contributions, named in the text's own words; the error analysis picks."""

from __future__ import annotations

import numpy as np
import pytest

from socialscore.config import load_settings
from socialscore.modeling.behaviour.explain import contributions, error_analysis, explain
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.steps.train import train_model

TOXIC = ["you are a fucking idiot", "what a fucking moron", "fucking stupid edit", "shut up idiot",
         "you moron go away", "stupid fucking article", "idiot idiot idiot", "get lost moron"]
CLEAN = ["thanks for the edit", "nice work on the article", "the source is reliable", "please add a citation",
         "good catch thank you", "i moved the section", "see the talk page", "the date is correct"]


@pytest.fixture(scope="module")
def fitted():
    texts = (TOXIC + CLEAN) * 3
    y = np.array(([1] * len(TOXIC) + [0] * len(CLEAN)) * 3)[:, None]
    settings = load_settings("dev")
    builder = FeatureBuilder.from_settings(settings)
    X = builder.fit_transform(texts)
    model, _ = train_model(X, y, ["toxic"], settings)
    return builder, model


def test_contributions_add_up_to_the_raw_score(fitted):
    builder, model = fitted
    texts = ["You are a FUCKING idiot!!!", "thanks for the citation", "an unseen sentence entirely"]
    raw = model.raw_scores(builder.transform(texts))[:, 0]
    for text, expected in zip(texts, raw, strict=True):
        terms, intercept = contributions(builder, model, text)
        assert intercept + sum(terms.values()) == pytest.approx(expected, abs=1e-4)
    explained = explain(builder, model, texts, top_k=3)
    assert [e["raw_score"] for e in explained] == pytest.approx(list(raw), abs=1e-4)
    assert all(len(e["terms"]) <= 3 for e in explained)


def test_terms_are_words_of_the_text_not_feature_names(fitted):
    builder, model = fitted
    [result] = explain(builder, model, ["You are a FUCKING idiot!!!"], top_k=10)
    terms = [t["term"] for t in result["terms"]]
    by_term = {t["term"]: t["contribution"] for t in result["terms"]}
    assert "FUCKING" in by_term and by_term["idiot"] > 0  # spelled as written; idiot pushes towards toxic
    assert not any("__" in t for t in terms)  # no char__uck, no word__ prefix
    assert result["terms"][0]["contribution"] > 0
    contributions_sorted = [abs(t["contribution"]) for t in result["terms"]]
    assert contributions_sorted == sorted(contributions_sorted, reverse=True)


def test_engineered_features_have_plain_names(fitted):
    builder, model = fitted
    [result] = explain(builder, model, ["idiot!!! idiot???"], top_k=50)
    features = {t["term"] for t in result["terms"] if t["kind"] == "feature"}
    assert features and not any(t.startswith(("eng", "log_", "lexicon")) for t in features)
    assert {"insult words", "text length"} <= features
    words = {w for t in result["terms"] if t["kind"] == "text" for w in t["term"].split()}
    assert words == {"idiot"}  # the text's word, punctuation stripped


def test_error_analysis_picks_the_most_confident_mistakes(fitted):
    builder, model = fitted
    texts = ["calm note", "you idiot", "fine edit", "moron", "nice", "thanks"]
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.7, 0.95, 0.2, 0.05, 0.1, 0.6])
    result = error_analysis(texts, y, p, 0.5, builder, model, k=2, top_k=2)
    assert [r["text"] for r in result["false_positives"]] == ["you idiot", "calm note"]
    assert [r["text"] for r in result["false_negatives"]] == ["moron", "fine edit"]
    assert result["false_positives"][0]["terms"] == explain(builder, model, ["you idiot"], top_k=2)[0]["terms"]
    bare = error_analysis(texts, y, p, 0.5, k=1)
    assert bare["false_positives"][0]["terms"] == [] and len(bare["false_negatives"]) == 1


def test_error_analysis_html_escapes_texts(fitted):
    from socialscore.modeling.behaviour.explain import error_analysis_html

    builder, model = fitted
    texts = ["<script>alert(1)</script> idiot", "fine"]
    result = error_analysis(texts, np.array([0, 1]), np.array([0.9, 0.1]), 0.5, builder, model, k=1)
    page = error_analysis_html(result)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.index("False positives") < page.index("&lt;script&gt;") < page.index("False negatives")
