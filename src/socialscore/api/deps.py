"""The model holder (load, verify, atomic swap), API-key authentication, and the dependency aliases routes use."""

from __future__ import annotations

import contextlib
import hmac
import logging
import math
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from socialscore.api.errors import ApiError
from socialscore.api.settings import ApiSettings, hash_key
from socialscore.errors import ModelError, SocialScoreError

log = logging.getLogger("socialscore.api")

SMOKE_TEXTS = ["thank you for the edit", "you are an idiot"]


@dataclass(frozen=True)
class LoadedModel:
    pipeline: Any  # socialscore.modeling.scorer.pipeline.ScoringPipeline
    manifest: dict[str, Any]
    loaded_at: float
    # one scoring call at a time per model: the featurizer's word cache is not built for concurrent
    # writers, and pure-Python featurizing gains nothing from threads under the GIL anyway
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def version(self) -> str:
        return str(self.pipeline.version)

    @cached_property
    def explainer(self) -> Any:
        """The pipeline for explanations: only its featurizer's ``transform`` takes ``lock``, so the
        long part of an explanation (tokens, names, shares) never holds up scoring."""
        return replace(self.pipeline, featurizer=_LockedFeaturizer(self.pipeline.featurizer, self.lock))


class _LockedFeaturizer:
    """A featurizer whose ``transform`` runs under a lock; every other attribute is the featurizer's own."""

    def __init__(self, featurizer: Any, lock: threading.Lock):
        self._featurizer = featurizer
        self._lock = lock

    def transform(self, texts: Any) -> Any:
        with self._lock:
            return self._featurizer.transform(texts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._featurizer, name)


def check_nltk(resources: list[str], models_dir: Path) -> None:
    """Raise ModelError when one of the model's NLTK resources cannot be found."""
    if not resources:
        return
    from socialscore.text.nltk_resources import ensure_resource

    cache = models_dir.resolve().parent / "data" / "cache" / "nltk_data"
    for name in resources:
        ensure_resource(name, cache)


def score_loaded(loaded: LoadedModel, texts: list[str]) -> Any:
    """Score with a served model, one call at a time (see ``LoadedModel.lock``)."""
    with loaded.lock:
        return score_pipeline(loaded.pipeline, texts)


def score_pipeline(pipeline: Any, texts: list[str]) -> Any:
    """``pipeline.score`` tuned for serving (blocking; run it in a worker thread)."""
    import numpy as np

    # a linear model scores without scikit-learn, which serving does not import (~1 CPU s at start-up);
    # when a model uses it (forests), its parameters were validated at fit time: skip re-validating
    # (entering the context costs more than a linear model's whole single-text call: only for forests)
    sklearn = sys.modules.get("sklearn") if _has_trees(pipeline.model) else None
    skip = sklearn.config_context(skip_parameter_validation=True) if sklearn else contextlib.nullcontext()
    with skip:
        scores = pipeline.score(texts)
    if not np.isfinite(scores.probabilities).all():
        raise ValueError("the model returned non-finite probabilities")
    return scores


def _has_trees(model: Any) -> bool:
    """The model (or a cascade's linear model) holds a scikit-learn forest."""
    return bool(getattr(model, "trees_", None) or getattr(getattr(model, "linear", None), "trees_", None))


def verify_pipeline(pipeline: Any) -> None:
    """Score two texts the way requests will (which also imports everything scoring needs, so the
    first request is not the one that pays for it): a model that cannot score is refused."""
    try:
        scores = score_pipeline(pipeline, SMOKE_TEXTS)
    except Exception as exc:  # anything here means the model is unusable
        raise ModelError(f"the model cannot score: {exc.__class__.__name__}: {exc}") from exc
    if len(scores) != len(SMOKE_TEXTS) or not all(math.isfinite(float(t)) for t in scores.toxicity):
        raise ModelError("the model returned invalid probabilities")


class ModelHolder:
    """Holds the served model; ``load()`` swaps a verified new one in with one assignment.

    Requests take ``holder.current`` once, so a request in flight keeps the model it started with.
    The model is read from the files a registry alias was exported to (plain JSON + arrays, each
    checked against the sha256 in ``bundle.json``); nothing is unpickled.
    """

    def __init__(self, models_dir: Path, alias: str = "production"):
        from socialscore.registry.serving import alias_dir

        self.models_dir = models_dir
        self.alias = alias
        self.directory = alias_dir(models_dir, alias)
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()  # one load at a time (HTTP reload, SIGHUP, startup)

    def require(self) -> LoadedModel:
        current = self.current
        if current is None:
            raise ApiError(503, "model_unavailable", f"no model is loaded: {self.last_error or 'starting'}")
        return current

    def load(self) -> tuple[str, str | None]:
        """Load, verify and swap in the exported model; return (status, previous version). Blocking.

        Raises ModelError (one line) and keeps the current model when the new one is broken.
        """
        from socialscore.api.startup import warm_up
        from socialscore.registry.serving import check_export, load_served

        with self._lock:
            previous = self.current
            old_version = previous.version if previous else None
            try:
                manifest = check_export(self.models_dir, self.alias)  # files vs the registry's sha256 (409)
                if previous is not None and manifest == previous.manifest:
                    return "unchanged", old_version
                started = time.perf_counter()
                log.info("loading model %s from %s", manifest.get("model_version"), self.directory)
                pipeline = load_served(self.directory)
                check_nltk(pipeline.nltk_resources, self.models_dir)
                verify_pipeline(pipeline)
                warm_up(pipeline, score_pipeline)
            except SocialScoreError as exc:
                self.last_error = str(exc)
                raise
            except Exception as exc:  # a hand-edited manifest with missing keys…
                self.last_error = f"the model in {self.directory} is broken: {exc.__class__.__name__}: {exc}"
                raise ModelError(self.last_error) from exc
            self.current = LoadedModel(pipeline=pipeline, manifest=manifest, loaded_at=time.time())
            self.last_error = None
            log.info("model %s (%s) loaded in %.0f ms (previous: %s)", pipeline.version, self.alias,
                     1000 * (time.perf_counter() - started), old_version)
            return "reloaded", old_version


# --- authentication -----------------------------------------------------------------------------
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")


def key_matches(key: str, hashes: tuple[str, ...]) -> bool:
    """Constant-time comparison against every stored hash (no early exit)."""
    digest = hash_key(key)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored)
    return found


def _presented(bearer: HTTPAuthorizationCredentials | None, header_key: str | None) -> list[str]:
    presented = [k for k in ((bearer.credentials if bearer else None), header_key) if k]
    if not presented:
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
                       {"WWW-Authenticate": "Bearer"})
    return presented


def _authenticate(request: Request, bearer: HTTPAuthorizationCredentials | None,
                  header_key: str | None) -> tuple[str | None, str]:
    """(role, client): role "admin" or "scoring" for the presented key, None when auth is off; client is
    the key's hash (the client's address when auth is off), for rate limiting. 401 without a valid key."""
    settings: ApiSettings = request.app.state.settings
    if not settings.auth_enabled:  # development without keys: everything is open (refused at startup in production)
        return None, "address:" + (request.client.host if request.client else "-")
    presented = _presented(bearer, header_key)
    for role, hashes in (("admin", settings.admin_keys), ("scoring", settings.api_keys)):
        matches = [key_matches(k, hashes) for k in presented]  # a list: every key compared, no early exit
        if any(matches):
            return role, hash_key(presented[matches.index(True)])
    raise ApiError(401, "unauthorized", "invalid API key", {"WWW-Authenticate": "Bearer"})


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> None:
    """Let the request through when auth is off or one presented key (scoring or admin) is valid (else
    401) and the key's rate limit allows it (else 429)."""
    _, client = _authenticate(request, bearer, header_key)
    request.app.state.rate_limiter.take(client)


async def require_admin_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> None:
    """Admin calls need a key from SOCIALSCORE_ADMIN_KEYS: 401 without a valid key, 403 with a scoring key."""
    role, client = _authenticate(request, bearer, header_key)
    if role == "scoring":
        raise ApiError(403, "forbidden", "this key may score but not administer; use a key from SOCIALSCORE_ADMIN_KEYS")
    request.app.state.rate_limiter.take(client)


Authenticated = Depends(require_api_key)
Admin = Depends(require_admin_key)


# --- what routes depend on ----------------------------------------------------------------------
# coroutines, not plain functions: FastAPI runs a plain ``def`` dependency in the threadpool (a thread hop
# per dependency on every request)
async def api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def model_holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.holder
    return holder


async def served_model(holder: Annotated[ModelHolder, Depends(model_holder)]) -> LoadedModel:
    """The model serving now (503 when none is loaded); a request keeps it to the end, even across a reload."""
    return holder.require()


ReloadFunction = Callable[[str], Awaitable[tuple[str, "str | None"]]]  # (source) -> (status, previous version)


async def reloader(request: Request) -> ReloadFunction:
    """The app's reload (``create_app`` sets it): load what the alias names now, refuse a broken model."""
    reload: ReloadFunction = request.app.state.reload
    return reload


CurrentSettings = Annotated[ApiSettings, Depends(api_settings)]
Holder = Annotated[ModelHolder, Depends(model_holder)]
ServedModel = Annotated[LoadedModel, Depends(served_model)]
Reloader = Annotated[ReloadFunction, Depends(reloader)]
