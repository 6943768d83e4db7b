"""POST /v1/score with explain: true returns the top contributing terms, in the text's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.bundle import load_bundle
from socialscore.modeling.explain import explain


@pytest.fixture
def linear_client(make_client, linear_bundle_dir: Path):
    return make_client(models_dir=linear_bundle_dir)


def test_explain_returns_the_top_terms(linear_client, linear_bundle_dir: Path):
    response = linear_client.post("/v1/score", json={"text": "You stupid CLOWN", "explain": True})
    assert response.status_code == 200, response.text
    body = response.json()
    terms = body["explanation"]
    assert 0 < len(terms) <= 5
    assert {"term", "contribution", "kind"} == set(terms[0])
    assert not any("__" in t["term"] for t in terms)
    bundle = load_bundle(linear_bundle_dir)
    expected = explain(bundle.vectorizer, bundle.model, ["You stupid CLOWN"], top_k=5)[0]["terms"]
    assert terms == expected
    positive = {t["term"] for t in terms if t["contribution"] > 0}
    assert positive & {"stupid", "CLOWN"}, terms  # spelled as written


def test_without_explain_the_answer_is_unchanged(linear_client):
    plain = linear_client.post("/v1/score", json={"text": "You stupid CLOWN"}).json()
    explained = linear_client.post("/v1/score", json={"text": "You stupid CLOWN", "explain": True}).json()
    assert "explanation" not in plain
    explained.pop("explanation")
    assert explained == plain


def test_a_model_that_cannot_explain_says_so(client):
    response = client.post("/v1/score", json={"text": "you are an idiot", "explain": True})
    assert response.status_code == 409  # a valid request the served model cannot answer
    assert response.json()["error"]["type"] == "explain_unsupported"
    assert client.post("/v1/score", json={"text": "you are an idiot", "explain": "yes please"}).status_code == 422
