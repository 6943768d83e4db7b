"""Endpoints through TestClient: shapes, same answer as batch prediction, order, model info, docs."""

from __future__ import annotations

from pathlib import Path

from socialscore.registry.serving import load_served

NASTY = "you are an idiot"
NICE = "thanks for the edit, great point"


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "model_version": "tiny-1", "alias": "production"}


def test_score_shape_and_same_answer_as_batch_prediction(client, models_dir: Path):
    body = client.post("/v1/score", json={"text": NASTY}).json()
    assert set(body) == {
        "toxicity",
        "is_toxic",
        "social_score",
        "risk_level",
        "labels",
        "flags",
        "model_version",
    }
    expected = load_served(models_dir).score([NASTY]).row(0)
    assert body["toxicity"] == expected["toxicity"]
    assert body["social_score"] == expected["social_score"]
    assert body["labels"] == expected["labels"]
    assert body["is_toxic"] is True
    assert body["model_version"] == "tiny-1"
    assert list(body["labels"]) == [
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
    ]


def test_nasty_scores_below_nice(client):
    nasty = client.post("/v1/score", json={"text": NASTY}).json()
    nice = client.post("/v1/score", json={"text": NICE}).json()
    assert nasty["social_score"] < nice["social_score"]
    assert nice["is_toxic"] is False


def test_batch_keeps_input_order_and_matches_single(client):
    texts = [NICE, NASTY, NICE + " again", NASTY.upper()]
    results = client.post("/v1/score/batch", json={"texts": texts}).json()["results"]
    assert len(results) == len(texts)
    singles = [client.post("/v1/score", json={"text": t}).json() for t in texts]
    assert [r["toxicity"] for r in results] == [s["toxicity"] for s in singles]
    assert results[1]["is_toxic"] and not results[0]["is_toxic"]


def test_concurrent_single_requests_are_each_answered_correctly(client):
    """Micro-batched requests must get their own row back, not a neighbour's."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [NICE if i % 2 else NASTY for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda t: client.post("/v1/score", json={"text": t}).json(), texts))
    assert [b["is_toxic"] for b in bodies] == [t == NASTY for t in texts]


def test_model_info(client):
    info = client.get("/v1/model").json()
    assert info["model_version"] == "tiny-1"
    assert info["threshold"] == 0.5
    assert info["trained_at"].startswith("2026-01-01")
    assert info["metrics"] == {"toxic": {"roc_auc": 0.99, "f1": 0.95}}
    assert info["alias"] == "production" and info["thresholds"]["toxic"] == 0.5
    assert info["labels"][0] == "toxic" and info["primary_label"] == "toxic"


def test_openapi_docs_with_examples(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/score",
        "/v1/score/batch",
        "/health",
        "/ready",
        "/metrics",
        "/v1/model",
        "/v1/admin/reload",
    ):
        assert path in paths
    schemas = spec["components"]["schemas"]
    assert schemas["ScoreRequest"]["examples"] and schemas["ScoreResult"]["examples"]
    assert schemas["ScoreRequest"]["properties"]["text"]["maxLength"] == 10_000
    assert "413" in paths["/v1/score"]["post"]["responses"]


def test_index_page_and_script(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/app.js">' in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/v1/score" in script.text
    assert ".innerHTML" not in script.text  # answers are shown with textContent only


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    hostile = client.get("/health", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert hostile.headers["x-request-id"] != "<script>" + "x" * 100
    assert len(hostile.headers["x-request-id"]) == 16


def test_no_model_means_not_ready_and_503(make_client, tmp_path: Path):
    client = make_client(models_dir=tmp_path / "empty")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["error"]["type"] == "model_unavailable"
    assert "train and promote one" in ready.json()["error"]["message"]
    assert client.get("/health").status_code == 200
    scored = client.post("/v1/score", json={"text": NICE})
    assert scored.status_code == 503 and scored.json()["error"]["type"] == "model_unavailable"


def test_missing_nltk_resource_is_not_ready(make_client, tmp_path: Path, monkeypatch):
    """A model whose preprocessing needs NLTK stop words is not ready where they cannot be found."""
    import hashlib
    import json
    import shutil

    import tiny_bundle

    models = tiny_bundle.build_tiny_bundle(tmp_path / "nltk" / "models", version="needs-nltk")
    document = json.loads((models / "pipeline.json").read_text())
    document["featurizer"]["preprocess"]["remove_stopwords"] = True
    (models / "pipeline.json").write_text(json.dumps(document))
    manifest = json.loads((models / "bundle.json").read_text())
    manifest["files"]["pipeline.json"] = hashlib.sha256((models / "pipeline.json").read_bytes()).hexdigest()
    (models / "bundle.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("NLTK_DATA", str(tmp_path / "empty-nltk"))
    import nltk

    monkeypatch.setattr(nltk, "download", lambda *a, **k: False)
    client = make_client(models_dir=models)
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "stopwords" in ready.json()["error"]["message"]
    shutil.rmtree(models)


def test_scoring_calls_never_overlap(client):
    """The featurizer may keep per-call state; single and batch scoring must not run it concurrently."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    featurizer = client.app.state.holder.current.pipeline.featurizer
    original = featurizer.transform
    active, overlaps, guard = [0], [0], threading.Lock()

    def transform(texts):
        with guard:
            active[0] += 1
            overlaps[0] += active[0] > 1
        time.sleep(0.005)
        try:
            return original(texts)
        finally:
            with guard:
                active[0] -= 1

    featurizer.transform = transform
    try:
        def call(i: int) -> int:
            if i % 3 == 0:
                return client.post("/v1/score/batch", json={"texts": [NICE, NASTY]}).status_code
            return client.post("/v1/score", json={"text": NASTY}).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = set(pool.map(call, range(48)))
    finally:
        del featurizer.transform
    assert statuses == {200}
    assert overlaps[0] == 0


def test_explain_must_be_a_json_boolean(client):
    # schemathesis found `"explain": 0` answered 200 (pydantic's lax bool): the schema says boolean
    response = client.post("/v1/score", json={"text": "hello there", "explain": 0})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "validation_error"
