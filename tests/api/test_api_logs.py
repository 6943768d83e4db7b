"""No comment text and no API key ever reaches a log: in-process (caplog) and a real server's output."""

from __future__ import annotations

import logging

import httpx
import pytest

from conftest import KEY

TEXTS = ["ZEBRA-CANARY-one you are an idiot", "ZEBRA-CANARY-two thanks for the edit"]


def _exercise(post, get) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    post("/v1/score", json={"text": TEXTS[0]}, headers=headers)
    post("/v1/score/batch", json={"texts": TEXTS}, headers={"X-API-Key": KEY})
    post("/v1/score", json={"text": TEXTS[0] * 400}, headers=headers)  # 413
    post("/v1/score", json={"text": TEXTS[1], "x": TEXTS[1]}, headers=headers)  # 422
    post(f"/v1/score?api_key={KEY}", json={"text": TEXTS[0]})  # 401, key in the query string
    post("/v1/score", json={"text": TEXTS[0]}, headers={"X-API-Key": KEY + "-wrong"})
    get(f"/nope?text={TEXTS[0]}&key={KEY}")


def test_in_process_logs_hold_no_text_or_key(make_client, caplog):
    with caplog.at_level(logging.DEBUG):
        client = make_client(api_keys=KEY, max_text_chars=5000)
        _exercise(client.post, client.get)
    # the server side only: httpx (the test's own client) logs the URLs it requests
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "request_id=" in logged  # the access log is on
    for secret in (KEY, "ZEBRA-CANARY"):
        assert secret not in logged


@pytest.mark.slow
def test_server_output_holds_no_text_or_key(live_server):
    server = live_server(workers=1, env={"SOCIALSCORE_API_KEYS": KEY, "SOCIALSCORE_LOG_LEVEL": "debug"})
    with httpx.Client(base_url=server.url, timeout=30) as http:
        _exercise(http.post, http.get)
    server.stop()
    output = server.log_path.read_text()
    assert "status=401" in output and "status=413" in output
    for secret in (KEY, "ZEBRA-CANARY"):
        assert secret not in output
