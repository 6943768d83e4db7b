"""One error shape for every answer that is not a success: ``{"error": {"type", "message", "request_id"}}``.

The messages never quote the submitted text.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialscore.api.middleware import error_payload
from socialscore.api.schemas import ErrorResponse

# no request body of this API nests deeper than 2; anything past this is refused as "nested too deeply"
MAX_JSON_DEPTH = 64

_HTTP_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}
_DESCRIPTIONS = {401: "Missing or invalid API key", 403: "A scoring key cannot administer",
                 409: "The new bundle is broken; the old one keeps serving",
                 413: "Text or body over the size limit", 422: "Blank text, wrong type or too many items",
                 429: "Rate limit of the key reached (see Retry-After)", 503: "No model loaded"}


class ApiError(Exception):
    """An error answered as ``{"error": {"type", "message", "request_id"}}``."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers


def documented(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (``described`` overrides a description: ``e409=...``)."""
    text = {**_DESCRIPTIONS, **{int(k[1:]): v for k, v in described.items()}}
    return {code: {"model": ErrorResponse, "description": text[code]} for code in codes}


def error_response(status: int, type_: str, message: str, request: Request,
                   headers: dict[str, str] | None = None) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    return Response(error_payload(type_, message, request_id), status_code=status,
                    headers=headers, media_type="application/json")


def json_depth(value: object) -> int:
    """How deeply ``value`` (parsed JSON) nests lists and objects; iterative, so any depth is safe."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep() -> tuple[int, str, str]:
    return 422, "validation_error", f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels"


def validation_message(exc: RequestValidationError, max_text_chars: int) -> tuple[int, str, str]:
    """(status, type, message) for a validation error; the message never quotes the input."""
    if json_depth(exc.body) > MAX_JSON_DEPTH:
        return _too_deep()
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "string_too_long":
            where = ".".join(str(p) for p in err.get("loc", ())[1:])
            return 413, "text_too_long", f"{where} is over the limit of {max_text_chars} characters"
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "body"
        if err.get("type") == "string_pattern_mismatch":
            msg = "must not be blank"
        elif err.get("type") == "value_error":
            msg = str(err.get("ctx", {}).get("error", "invalid"))
        else:
            msg = err.get("msg", "invalid")
        parts.append(f"{where}: {msg}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "validation_error", "; ".join(parts) + more


def install_handlers(app: FastAPI, max_text_chars: int) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.type, exc.message, request, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        status, type_, message = validation_message(exc, max_text_chars)
        return error_response(status, type_, message, request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not decode the body: bad input, 422
            if isinstance(exc.__cause__, RecursionError):  # json.loads gave up on the nesting
                return error_response(*_too_deep(), request)
            return error_response(422, "validation_error", "body: not valid UTF-8 JSON", request)
        type_ = _HTTP_TYPES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else type_.replace("_", " ")
        return error_response(exc.status_code, type_, message, request, getattr(exc, "headers", None))
