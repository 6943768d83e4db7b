"""Limits and errors: 413 for long texts and big bodies (refused before reading them), 422 for bad
input, one JSON error shape everywhere, and no comment text echoed."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import settings_for
from socialscore.api.service import create_app


def _assert_error(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "request_id"}
    assert body["error"]["type"] == type_
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]


def test_text_over_limit_is_413(make_client):
    client = make_client(max_text_chars=50)
    _assert_error(client.post("/v1/score", json={"text": "a" * 51}), 413, "text_too_long")
    _assert_error(
        client.post("/v1/score/batch", json={"texts": ["ok", "b" * 51]}), 413, "text_too_long"
    )
    assert client.post("/v1/score", json={"text": "a" * 50}).status_code == 200


def test_default_limit_is_10000_characters(client):
    _assert_error(client.post("/v1/score", json={"text": "é" * 10_001}), 413, "text_too_long")
    assert client.post("/v1/score", json={"text": "é" * 10_000}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "\n\t \u00a0\u2003"},
        {"text": 5},
        {"text": None},
        {"text": ["a"]},
        {},
        {"txt": "a"},
        {"text": "a", "extra": 1},
        [],
        "text",
        3,
    ],
)
def test_bad_single_input_is_422(client, body):
    _assert_error(client.post("/v1/score", json=body), 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [
        {"texts": []},
        {"texts": "abc"},
        {"texts": ["ok", " "]},
        {"texts": ["ok", 3]},
        {"texts": None},
        {},
    ],
)
def test_bad_batch_input_is_422(client, body):
    _assert_error(client.post("/v1/score/batch", json=body), 422, "validation_error")


def test_too_many_batch_items_is_422(make_client):
    client = make_client(max_batch=3)
    error = _assert_error(
        client.post("/v1/score/batch", json={"texts": ["a"] * 4}), 422, "validation_error"
    )
    assert "at most 3" in error["message"]
    assert client.post("/v1/score/batch", json={"texts": ["a"] * 3}).status_code == 200


def test_invalid_json_is_422(client):
    response = client.post(
        "/v1/score", content=b'{"text": "abc', headers={"Content-Type": "application/json"}
    )
    _assert_error(response, 422, "validation_error")


def test_messages_never_echo_the_text(make_client):
    client = make_client(max_text_chars=20)
    secret = "SECRET-COMMENT-TEXT-xyz"
    for response in (
        client.post("/v1/score", json={"text": secret * 2}),
        client.post("/v1/score", json={"text": secret, "other": secret}),
        client.post("/v1/score/batch", json={"texts": [secret] * 2, "x": secret}),
        client.post("/v1/score", json={"text": [secret]}),
    ):
        assert response.status_code in (413, 422)
        assert "SECRET" not in response.text


def test_404_and_405_use_the_same_shape(client):
    _assert_error(client.get("/nope"), 404, "not_found")
    _assert_error(client.get("/v1/score"), 405, "method_not_allowed")


def test_declared_oversized_body_is_413(client):
    body = json.dumps({"texts": ["x" * 1000] * 5000}).encode()  # ~5 MB > 4 MiB default
    _assert_error(
        client.post("/v1/score/batch", content=body, headers={"Content-Type": "application/json"}),
        413,
        "body_too_large",
    )
    single = json.dumps({"text": "x" * 70_000}).encode()  # over the single-text body limit
    _assert_error(
        client.post("/v1/score", content=single, headers={"Content-Type": "application/json"}),
        413,
        "body_too_large",
    )


def test_chunked_oversized_body_is_413(client):
    def chunks():
        yield b'{"texts": ["'
        for _ in range(10_000):
            yield b"x" * 1024
        yield b'"]}'

    response = client.post(
        "/v1/score/batch", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _assert_error(response, 413, "body_too_large")


def _asgi_post(app, path: str, chunks: int, chunk: bytes, headers: list) -> tuple[int, int, list]:
    """Drive the ASGI app directly; return (status, chunks the app read, messages sent)."""
    reads = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": reads < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], reads, sent


def test_big_body_is_refused_before_it_is_read(models_dir):
    app = create_app(settings_for(models_dir=models_dir, max_body_bytes=64 * 1024))
    # declared too big: refused without reading a single chunk
    status, reads, _ = _asgi_post(
        app,
        "/v1/score/batch",
        1000,
        b"x" * 1024,
        [(b"content-length", b"1024000"), (b"content-type", b"application/json")],
    )
    assert (status, reads) == (413, 0)
    # streamed without a length: reading stops just past the limit, not at the end (1000 chunks)
    status, reads, sent = _asgi_post(
        app, "/v1/score/batch", 1000, b"x" * 1024, [(b"content-type", b"application/json")]
    )
    assert status == 413 and reads == 65
    assert (b"connection", b"close") in sent[0]["headers"]


def test_undecodable_body_is_422(client):
    response = client.post("/v1/score", content=b"\xff\xfe\x00{", headers={"Content-Type": "application/json"})
    _assert_error(response, 422, "validation_error")
