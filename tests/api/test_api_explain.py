"""POST /v1/score with explain: true returns the top contributing terms, in the text's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.modeling.behaviour.explain import explain
from socialscore.registry.serving import load_served


@pytest.fixture
def linear_client(make_client, linear_bundle_dir: Path):
    return make_client(models_dir=linear_bundle_dir)


@pytest.mark.slow
def test_explain_returns_the_top_terms(linear_client, linear_bundle_dir: Path):
    response = linear_client.post("/v1/score", json={"text": "You stupid CLOWN", "explain": True})
    assert response.status_code == 200, response.text
    body = response.json()
    terms = body["explanation"]
    assert 0 < len(terms) <= 5
    assert {"term", "contribution", "kind"} == set(terms[0])
    assert not any("__" in t["term"] for t in terms)
    pipeline = load_served(linear_bundle_dir)
    expected = explain(pipeline.featurizer, pipeline.model, pipeline.clean(["You stupid CLOWN"]), top_k=5)[0]["terms"]
    assert terms == expected
    positive = {t["term"] for t in terms if t["contribution"] > 0}
    assert positive & {"stupid", "CLOWN"}, terms  # spelled as written


def test_without_explain_the_answer_is_unchanged(linear_client):
    plain = linear_client.post("/v1/score", json={"text": "You stupid CLOWN"}).json()
    explained = linear_client.post("/v1/score", json={"text": "You stupid CLOWN", "explain": True}).json()
    assert "explanation" not in plain
    explained.pop("explanation")
    assert explained == plain


@pytest.mark.slow
def test_a_model_that_cannot_explain_says_so(make_client, tmp_path):
    from tiny_bundle import build_forest_bundle

    client = make_client(models_dir=build_forest_bundle(tmp_path / "forest" / "models"))
    response = client.post("/v1/score", json={"text": "you are an idiot", "explain": True})
    assert response.status_code == 409  # a valid request the served model cannot answer
    assert response.json()["error"]["type"] == "explain_unsupported"
    assert client.post("/v1/score", json={"text": "you are an idiot", "explain": "yes please"}).status_code == 422
