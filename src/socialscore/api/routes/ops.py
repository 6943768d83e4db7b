"""Open endpoints for operators and browsers: liveness, readiness, Prometheus metrics and the page at ``/``."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from socialscore.api import metrics
from socialscore.api.deps import Holder, ServedModel
from socialscore.api.errors import documented
from socialscore.api.schemas import Health, Ready

STATIC = resources.files("socialscore.api") / "static"
_INDEX_HTML = (STATIC / "index.html").read_text(encoding="utf-8")
_INDEX_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

router = APIRouter(tags=["ops"])


@router.get("/health", response_model=Health)
async def health() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=Ready, responses=documented(503))
async def ready(loaded: ServedModel, holder: Holder) -> dict:
    """Readiness: a verified model is loaded and its NLTK resources are present."""
    return {"status": "ready", "model_version": loaded.version, "alias": holder.alias}


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}})
async def prometheus_metrics() -> Response:
    """Prometheus metrics."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


@router.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    return HTMLResponse(_INDEX_HTML, headers={"Content-Security-Policy": _INDEX_POLICY})
