"""Prometheus metrics: per-endpoint counts and latency, predictions by class, scores, version, errors."""

from __future__ import annotations

import re


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (("{" + labels + "}") if labels else "")) + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_what_happened(client):
    before = client.get("/metrics").text
    client.post("/v1/score", json={"text": "you are an idiot"})
    client.post("/v1/score/batch", json={"texts": ["thanks for the edit", "great point", "you moron"]})
    client.post("/v1/score", json={"text": " "})
    client.get("/nope")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text

    def delta(name: str, labels: str = "") -> float:
        return _value(after, name, labels) - _value(before, name, labels)

    assert delta("socialscore_api_requests_total", 'endpoint="/v1/score",method="POST",status="200"') == 1
    assert delta("socialscore_api_requests_total", 'endpoint="/v1/score",method="POST",status="422"') == 1
    assert delta("socialscore_api_requests_total", 'endpoint="unmatched",method="GET",status="404"') == 1
    assert delta("socialscore_api_request_duration_seconds_count", 'endpoint="/v1/score/batch"') == 1
    assert delta("socialscore_api_predictions_total", 'predicted_class="toxic"') == 2
    assert delta("socialscore_api_predictions_total", 'predicted_class="non_toxic"') == 2
    assert delta("socialscore_api_social_score_count") == 4
    assert delta("socialscore_api_errors_total", 'type="validation_error"') == 1
    assert delta("socialscore_api_errors_total", 'type="not_found"') == 1
    assert _value(after, "socialscore_api_model_info", 'version="tiny-1"') == 1


def test_path_labels_stay_bounded(client):
    for i in range(5):
        client.get(f"/random/{i}")
    text = client.get("/metrics").text
    assert "/random/" not in text
