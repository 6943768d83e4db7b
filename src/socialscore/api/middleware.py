"""One pure-ASGI middleware for every HTTP request: request id, body size and time limits, metrics, access log.

Pure ASGI (not BaseHTTPMiddleware) because it runs on every request and must stay cheap. The access
log holds the route template, status, sizes and latency — never the query string, headers or body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from socialscore.api import metrics

log = logging.getLogger("socialscore.api.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_QUIET = {"/health", "/ready", "/metrics"}
Scope = dict[str, Any]


def error_payload(type_: str, message: str, request_id: str) -> bytes:
    metrics.ERRORS.labels(type_).inc()
    return json.dumps({"error": {"type": type_, "message": message, "request_id": request_id}}).encode()


class RequestMiddleware:
    def __init__(self, app: Any, body_limit: Callable[[str], int], known_paths: set[str],
                 read_timeout: float | None = None):
        self.app = app
        self.body_limit = body_limit
        self.known_paths = known_paths
        self.read_timeout = read_timeout  # seconds for the whole body to arrive (a slow sender gets 408)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False
        body_size = 0

        async def send_with_headers(message: dict) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if scope["method"] in ("POST", "PUT", "PATCH"):
                limit = self.body_limit(scope["path"])
                try:
                    async with asyncio.timeout(self.read_timeout):
                        body, refusal = await _read_limited(scope, receive, limit)
                except TimeoutError:
                    message = f"the request body did not arrive within {self.read_timeout:g} s"
                    await _send_json(send_with_headers, 408, error_payload("request_timeout", message, request_id),
                                     close=True)
                    return
                if body is None:  # the client went away
                    status = 499
                    return
                body_size = len(body)
                if refusal:
                    payload = error_payload("body_too_large", refusal, request_id)
                    await _send_json(send_with_headers, 413, payload, close=True)
                    return
                receive = _replay(body, receive)
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # noqa: BLE001 - last resort: one JSON shape, no text in the log
            log.error("request %s failed: %s", request_id, exc.__class__.__name__)
            log.debug("traceback for request %s", request_id, exc_info=True)
            if not response_started:
                payload = error_payload("internal_error", "internal server error", request_id)
                await _send_json(send_with_headers, 500, payload)
            status = 500
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or _known(scope["path"], self.known_paths)
            metrics.REQUESTS.labels(endpoint, scope["method"], str(status)).inc()
            metrics.LATENCY.labels(endpoint).observe(elapsed)
            state = scope["state"]
            level = logging.DEBUG if endpoint in _QUIET and status < 400 else logging.INFO
            if log.isEnabledFor(level):
                log.log(level, "request_id=%s %s %s status=%d ms=%.1f bytes_in=%d texts=%s chars=%s",
                        request_id, scope["method"], endpoint, status, 1000 * elapsed, body_size,
                        state.get("n_texts", "-"), state.get("n_chars", "-"))


def _known(path: str, known: set[str]) -> str:
    """A bounded label for requests no route matched (mounts, 404s, refusals before routing)."""
    if path in known:
        return path
    if path.startswith("/static/"):
        return "/static"
    return "unmatched"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex[:16]


async def _read_limited(scope: Scope, receive: Any, limit: int) -> tuple[bytes | None, str | None]:
    """Read the body, refusing (without reading on) once it is over ``limit`` bytes."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = 0
            if declared > limit:
                return b"", f"request body of {declared} bytes is over the limit of {limit} bytes"
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", f"request body is over the limit of {limit} bytes"
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_json(send: Any, status: int, payload: bytes, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:  # the rest of the body was never read: do not reuse this connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
