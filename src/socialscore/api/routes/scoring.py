"""Scoring: one text (micro-batched, optionally explained) or a batch of texts.

The request bodies carry the configured limits (text length, batch size), so the routes are
registered per app by :func:`build_router` with that app's request models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from socialscore.api import metrics
from socialscore.api.deps import (
    Authenticated,
    CurrentSettings,
    LoadedModel,
    ServedModel,
    score_loaded,
)
from socialscore.api.errors import ApiError, documented
from socialscore.api.schemas import BatchInput, BatchResult, ScoreInput, ScoreResult, request_models
from socialscore.api.settings import ApiSettings
from socialscore.modeling.scorer.scores import Scores


async def score(body: ScoreInput, request: Request, loaded: ServedModel, settings: CurrentSettings) -> dict:
    """Score one comment; with `explain: true` also the terms that drove its score."""
    text = body.text
    request.state.n_texts, request.state.n_chars = 1, len(text)
    if body.explain and len(text) > settings.explain_max_chars:
        raise ApiError(413, "text_too_long", f"text is over the limit of {settings.explain_max_chars} characters "
                                             "for explain: true (send it without explain to score it)")
    result = await request.app.state.batcher.score(loaded, text)
    if body.explain:
        terms = await request.app.state.explain_gate.run(explain_text, loaded, text)
        result = {**result, "explanation": terms}
    return result


async def score_batch(body: BatchInput, request: Request, loaded: ServedModel) -> dict:
    """Score up to SOCIALSCORE_MAX_BATCH comments at once (vectorised); results keep input order."""
    texts = body.texts
    request.state.n_texts, request.state.n_chars = len(texts), sum(map(len, texts))
    scores = await run_in_threadpool(score_texts, loaded, texts)
    version = loaded.version
    return {"results": [{**row, "model_version": version} for row in scores.rows()]}


def score_texts(loaded: LoadedModel, texts: list[str]) -> Scores:
    """Score texts (blocking; runs in a worker thread) and count the predictions."""
    scores: Scores = score_loaded(loaded, texts)
    metrics.record_predictions(scores.is_toxic, scores.social_score)
    return scores


def explain_text(loaded: LoadedModel, text: str) -> list[dict[str, Any]]:
    """The top terms of one text (blocking; only the featurizer call shares the scoring lock)."""
    from socialscore.modeling.behaviour.explain import explain_pipeline

    try:
        return explain_pipeline(loaded.explainer, text)
    except ValueError as exc:
        raise ApiError(409, "explain_unsupported", str(exc)) from None


def build_router(settings: ApiSettings) -> APIRouter:
    """The scoring routes with this app's request models (limits from ``settings``)."""
    ScoreRequest, BatchRequest = request_models(settings.max_text_chars, settings.max_batch)
    router = APIRouter(tags=["scoring"], dependencies=[Authenticated])
    router.add_api_route(
        "/v1/score", _with_body(score, ScoreRequest), methods=["POST"], response_model=ScoreResult,
        response_model_exclude_none=True,
        responses=documented(401, 409, 413, 422, 429, 503,
                             e409="explain: true, but the served model cannot explain",
                             e429="Rate limit of the key reached, or too many explanations at once (see Retry-After)",
                             e503="No model loaded, or the explanation took too long (see Retry-After)"))
    router.add_api_route("/v1/score/batch", _with_body(score_batch, BatchRequest), methods=["POST"],
                         response_model=BatchResult, responses=documented(401, 413, 422, 429, 503))
    return router


def _with_body(endpoint: Callable[..., Any], model: type) -> Callable[..., Any]:
    """``endpoint`` with its ``body`` parameter typed as ``model`` (what FastAPI validates and documents)."""
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = [p.replace(annotation=model) if p.name == "body" else p for p in signature.parameters.values()]

    async def route(**kwargs: Any) -> Any:
        return await endpoint(**kwargs)

    vars(route)["__signature__"] = signature.replace(parameters=parameters)  # what inspect.signature reads
    route.__name__, route.__doc__ = endpoint.__name__, endpoint.__doc__
    return route
