"""social-score-api: FastAPI routes, error handlers and the app factory (``create_app``).

Named service.py, not app.py: a submodule called ``app`` would shadow ``socialscore.api:app``.

No ``from __future__ import annotations`` here: FastAPI must see the request models built in
``create_app`` as real classes, not as strings it cannot resolve.
"""

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialscore.api import metrics
from socialscore.api.batcher import MicroBatcher
from socialscore.api.deps import (
    Admin,
    ApiError,
    Authenticated,
    LoadedModel,
    ModelHolder,
    score_loaded,
)
from socialscore.api.middleware import RequestMiddleware, error_payload
from socialscore.api.schemas import (
    BatchResult,
    ErrorResponse,
    Health,
    ModelInfo,
    Ready,
    ReloadResult,
    ScoreResult,
    request_models,
)
from socialscore.api.settings import ApiSettings, load_settings
from socialscore.errors import SocialScoreError

log = logging.getLogger("socialscore.api")

SUPERVISOR_ENV = "_SOCIALSCORE_SUPERVISOR_PID"  # set by socialscore.api.server for --workers > 1
_STATIC = resources.files("socialscore.api") / "static"
_HTTP_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {401: "Missing or invalid API key", 403: "A scoring key cannot administer", 409: "The new bundle is broken; the old one keeps serving",
            413: "Text or body over the size limit", 422: "Blank text, wrong type or too many items",
            503: "No model loaded"}
    return {code: {"model": ErrorResponse, "description": text[code]} for code in codes}


def _error_response(status: int, type_: str, message: str, request: Request,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    return Response(error_payload(type_, message, request_id), status_code=status,
                    headers=headers, media_type="application/json")  # type: ignore[return-value]


def _validation_message(exc: RequestValidationError, settings: ApiSettings) -> tuple[int, str, str]:
    """(status, type, message) for a validation error; the message never quotes the input."""
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "string_too_long":
            where = ".".join(str(p) for p in err.get("loc", ())[1:])
            return 413, "text_too_long", f"{where} is over the limit of {settings.max_text_chars} characters"
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "body"
        msg = "must not be blank" if err.get("type") == "string_pattern_mismatch" else err.get("msg", "invalid")
        parts.append(f"{where}: {msg}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "validation_error", "; ".join(parts) + more


def _install_handlers(app: FastAPI, settings: ApiSettings) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error_response(exc.status, exc.type, exc.message, request, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        status, type_, message = _validation_message(exc, settings)
        return _error_response(status, type_, message, request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not decode the body (e.g. not UTF-8): bad input, 422
            return _error_response(422, "validation_error", "body: not valid UTF-8 JSON", request)
        type_ = _HTTP_TYPES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else type_.replace("_", " ")
        return _error_response(exc.status_code, type_, message, request, getattr(exc, "headers", None))


class _StartupGuard:
    """Refuse the ASGI lifespan with a one-line message (no traceback) when the settings forbid starting."""

    def __init__(self, app: Any, problem: str | None):
        self.app = app
        self.problem = problem

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" and self.problem:
            await receive()  # lifespan.startup
            log.error(self.problem)
            await send({"type": "lifespan.startup.failed", "message": self.problem})
            return
        await self.app(scope, receive, send)


def _setup_logging(settings: ApiSettings) -> None:
    root = logging.getLogger("socialscore")
    if not root.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's access log prints the query string, where a client may have put a key: ours replaces it
    logging.getLogger("uvicorn.access").disabled = True


async def _reload(app: FastAPI, source: str) -> tuple[str, str | None]:
    holder: ModelHolder = app.state.holder
    status, previous = await run_in_threadpool(holder.load)
    current = holder.require()
    metrics.set_model_version(current.version, previous)
    if status == "reloaded":
        log.info("reload (%s): now serving %s, previously %s", source, current.version, previous)
    return status, previous


def _on_sighup(app: FastAPI) -> None:
    async def run() -> None:
        try:
            await _reload(app, "SIGHUP")
        except SocialScoreError as exc:
            log.error("reload (SIGHUP) refused, still serving the old model: %s", exc)

    task = asyncio.get_running_loop().create_task(run())
    app.state.tasks.add(task)
    task.add_done_callback(app.state.tasks.discard)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ApiSettings = app.state.settings
    _setup_logging(settings)
    if settings.nltk_data:
        os.environ.setdefault("NLTK_DATA", settings.nltk_data)
    if not settings.auth_enabled:
        log.warning("SOCIALSCORE_API_KEYS is empty: the API is open to anyone who can reach it "
                    "(allowed only with SOCIALSCORE_ENV=development)")
    try:
        await _reload(app, "startup")
    except SocialScoreError as exc:
        log.error("no model loaded, /ready answers 503: %s", exc)
    loop = asyncio.get_running_loop()
    sighup = threading.current_thread() is threading.main_thread()
    if sighup:
        loop.add_signal_handler(signal.SIGHUP, _on_sighup, app)
    try:
        yield
    finally:
        if sighup:
            loop.remove_signal_handler(signal.SIGHUP)
        await app.state.batcher.close()
        metrics.mark_worker_dead(os.getpid())


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app; the model is loaded at startup (once per worker process)."""
    settings = settings or load_settings()
    ScoreRequest, BatchRequest = request_models(settings.max_text_chars, settings.max_batch)
    app = FastAPI(
        title="social-score-api",
        version="1.0",
        description="Scores comments for toxicity and turns that into a 0–100 social score. "
                    "Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.holder = ModelHolder(settings.models_dir, settings.model_alias)
    app.state.tasks = set()
    app.state.batcher = MicroBatcher(_score)
    _install_handlers(app, settings)

    @app.get("/health", response_model=Health, tags=["ops"])
    async def health() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", response_model=Ready, responses=_errors(503), tags=["ops"])
    async def ready() -> dict:
        """Readiness: a verified model is loaded and its NLTK resources are present."""
        return {"status": "ready", "model_version": app.state.holder.require().version,
                "alias": app.state.holder.alias}

    @app.get("/metrics", tags=["ops"], response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "Prometheus text format"}})
    async def prometheus_metrics() -> Response:
        """Prometheus metrics."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    @app.post("/v1/score", response_model=ScoreResult, responses={**_errors(401, 413, 422, 503), 409: {
                  "model": ErrorResponse, "description": "explain: true, but the served model cannot explain"}},
              dependencies=[Authenticated], tags=["scoring"], response_model_exclude_none=True)
    async def score(body: ScoreRequest, request: Request) -> dict:  # type: ignore[valid-type]
        """Score one comment; with `explain: true` also the terms that drove its score."""
        loaded = app.state.holder.require()
        text: str = body.text  # type: ignore[attr-defined]
        request.state.n_texts, request.state.n_chars = 1, len(text)
        result = await app.state.batcher.score(loaded, text)
        if body.explain:  # type: ignore[attr-defined]
            result = {**result, "explanation": await run_in_threadpool(_explain, loaded, text)}
        return result

    @app.post("/v1/score/batch", response_model=BatchResult, responses=_errors(401, 413, 422, 503),
              dependencies=[Authenticated], tags=["scoring"])
    async def score_batch(body: BatchRequest, request: Request) -> dict:  # type: ignore[valid-type]
        """Score up to SOCIALSCORE_MAX_BATCH comments at once (vectorised); results keep input order."""
        loaded = app.state.holder.require()
        texts: list[str] = body.texts  # type: ignore[attr-defined]
        request.state.n_texts, request.state.n_chars = len(texts), sum(map(len, texts))
        scores = await run_in_threadpool(_score, loaded, texts)
        version = loaded.version
        results = []
        for i in range(len(scores)):
            row = scores.row(i)
            row["model_version"] = version
            results.append(row)
        return {"results": results}

    @app.get("/v1/model", response_model=ModelInfo, responses=_errors(401, 503),
             dependencies=[Authenticated], tags=["model"])
    async def model_info() -> dict:
        """The served model: version, training time, metrics, threshold and labels."""
        loaded = app.state.holder.require()
        manifest, pipeline = loaded.manifest, loaded.pipeline
        return {
            "model_version": loaded.version, "alias": app.state.holder.alias, "trained_at": manifest.get("trained_at"),
            "labels": pipeline.labels, "primary_label": pipeline.primary_label, "threshold": pipeline.threshold,
            "thresholds": pipeline.thresholds, "high_risk": pipeline.high_risk, "gate": manifest.get("gate"),
            "metrics": manifest.get("metrics"), "test_metrics": manifest.get("test_metrics"),
            "nltk_resources": pipeline.nltk_resources,
        }

    @app.post("/v1/admin/reload", response_model=ReloadResult, responses=_errors(401, 403, 409),
              dependencies=[Admin], tags=["model"])
    async def reload_model() -> dict:
        """Load the model the served alias names again (after a promote or rollback) and swap it in atomically.

        Needs an admin key (SOCIALSCORE_ADMIN_KEYS); a scoring key gets 403. Requests in flight finish on
        the old model; a broken or tampered model is refused (409) and the old one keeps serving. With
        several workers, every worker reloads.
        """
        try:
            status, previous = await _reload(app, "HTTP")
        except SocialScoreError as exc:
            raise ApiError(409, "reload_refused", f"reload refused, still serving the old model: {exc}") from None
        if status == "reloaded" and os.environ.get(SUPERVISOR_ENV) == str(os.getppid()):
            os.kill(os.getppid(), signal.SIGHUP)  # the supervisor passes it on to every worker
        return {"status": status, "model_version": app.state.holder.require().version,
                "previous_version": previous}

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(app.state.index_html, headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                       "frame-ancestors 'none'"})

    app.state.index_html = (_STATIC / "index.html").read_text(encoding="utf-8")
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")

    known = {route.path for route in app.routes}  # type: ignore[attr-defined]
    single = settings.single_body_limit()
    app.add_middleware(
        RequestMiddleware,
        body_limit=lambda path: single if path == "/v1/score" else settings.max_body_bytes,
        known_paths=known,
    )
    problem = None
    try:
        settings.check_startable()
    except SocialScoreError as exc:
        problem = str(exc)
    app.add_middleware(_StartupGuard, problem=problem)
    return app


def _explain(loaded: LoadedModel, text: str) -> list[dict[str, Any]]:
    """The top terms of one text (blocking; one featurizer call at a time, like scoring)."""
    from socialscore.modeling.behaviour.explain import explain_pipeline

    try:
        with loaded.lock:
            return explain_pipeline(loaded.pipeline, text)
    except ValueError as exc:
        raise ApiError(409, "explain_unsupported", str(exc)) from None


def _score(loaded: LoadedModel, texts: list[str]) -> Any:
    """Score texts (blocking; runs in a worker thread) and count the predictions."""
    scores = score_loaded(loaded, texts)
    metrics.record_predictions(scores.is_toxic, scores.social_score)
    return scores
