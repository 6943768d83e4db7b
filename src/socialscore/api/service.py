"""social-score-api: the app factory (``create_app``) and its lifecycle (startup, reload, SIGHUP).

Named service.py, not app.py: a submodule called ``app`` would shadow ``socialscore.api:app``.
The routes live in ``socialscore.api.routes`` (one module per resource), the error shape in
``socialscore.api.errors``, and what routes depend on (served model, settings, keys) in ``deps``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from socialscore.api import metrics
from socialscore.api.batcher import MicroBatcher
from socialscore.api.deps import ModelHolder
from socialscore.api.errors import install_handlers
from socialscore.api.limits import ExplainGate, RateLimiter
from socialscore.api.middleware import RequestMiddleware
from socialscore.api.routes import model, ops, scoring
from socialscore.api.routes.scoring import score_texts
from socialscore.api.settings import ApiSettings, load_settings
from socialscore.api.startup import log_ready, prepare_kernels
from socialscore.errors import SocialScoreError

log = logging.getLogger("socialscore.api")


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
    started = time.perf_counter()
    prepare_kernels()
    try:
        await _reload(app, "startup")
    except SocialScoreError as exc:
        log.error("no model loaded, /ready answers 503: %s", exc)
    log_ready(started, app.state.holder.current and app.state.holder.current.version)
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
    app.state.batcher = MicroBatcher(score_texts)
    app.state.reload = functools.partial(_reload, app)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.explain_gate = ExplainGate(settings.explain_concurrency, settings.explain_timeout)
    install_handlers(app, settings.max_text_chars)
    app.include_router(ops.router)
    app.include_router(scoring.build_router(settings))
    app.include_router(model.router)
    app.mount("/static", StaticFiles(directory=str(ops.STATIC)), name="static")

    known = {getattr(route, "path", "") for route in app.routes}
    single = settings.single_body_limit()
    app.add_middleware(
        RequestMiddleware,
        body_limit=lambda path: single if path == "/v1/score" else settings.max_body_bytes,
        known_paths=known,
        read_timeout=settings.read_timeout,
    )
    problem = None
    try:
        settings.check_startable()
    except SocialScoreError as exc:
        problem = str(exc)
    app.add_middleware(_StartupGuard, problem=problem)
    return app
