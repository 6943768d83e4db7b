"""The model holder (load, verify, atomic swap) and API-key authentication."""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from socialscore.api.settings import ApiSettings, hash_key
from socialscore.errors import ModelError, SocialScoreError

log = logging.getLogger("socialscore.api")

SMOKE_TEXTS = ["thank you for the edit", "you are an idiot"]


class ApiError(Exception):
    """An error answered as ``{"error": {"type", "message", "request_id"}}``."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers


@dataclass(frozen=True)
class LoadedModel:
    bundle: Any  # socialscore.bundle.ScoringBundle
    manifest: dict[str, Any]
    loaded_at: float
    # one scoring call at a time per bundle: the featuriser keeps per-call state on itself (not
    # thread-safe), and pure-Python featurising gains nothing from threads under the GIL anyway
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def version(self) -> str:
        return str(self.bundle.version)


def check_nltk(resources: list[str], models_dir: Path) -> None:
    """Raise ModelError when one of the bundle's NLTK resources cannot be found."""
    if not resources:
        return
    try:
        from socialscore.text.nltk_resources import ensure_resource
    except ImportError as exc:
        raise ModelError(f"the bundle needs NLTK resources {resources} but they cannot be checked") from exc
    cache = models_dir.resolve().parent / "data" / "cache" / "nltk_data"
    for name in resources:
        ensure_resource(name, cache)


def score_loaded(loaded: LoadedModel, texts: list[str]) -> Any:
    """Score with a served model, one call at a time (see ``LoadedModel.lock``)."""
    with loaded.lock:
        return score_bundle(loaded.bundle, texts)


def score_bundle(bundle: Any, texts: list[str]) -> Any:
    """socialscore.scoring.score_texts, tuned for serving (blocking; run it in a worker thread)."""
    import numpy as np
    import sklearn

    from socialscore.scoring import score_texts

    # parameters were validated at fit time; re-validating costs more than scoring one text
    with sklearn.config_context(skip_parameter_validation=True):
        scores = score_texts(bundle, texts)
    if not np.isfinite(scores.probabilities).all():
        raise ValueError("the model returned non-finite probabilities")
    return scores


def verify_bundle(bundle: Any) -> None:
    """Score two texts the way requests will (which also imports everything scoring needs, so the
    first request is not the one that pays for it): a bundle that cannot score is refused."""
    try:
        scores = score_bundle(bundle, SMOKE_TEXTS)
    except Exception as exc:  # anything here means the bundle is unusable
        raise ModelError(f"the model bundle cannot score: {exc.__class__.__name__}: {exc}") from exc
    if len(scores) != len(SMOKE_TEXTS) or not all(math.isfinite(float(t)) for t in scores.toxicity):
        raise ModelError("the model bundle returned invalid probabilities")


class ModelHolder:
    """Holds the serving bundle; ``load()`` swaps a verified new one in with one assignment.

    Requests take ``holder.current`` once, so a request in flight keeps the bundle it started with.
    """

    def __init__(self, models_dir: Path):
        self.models_dir = models_dir
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()  # one load at a time (HTTP reload, SIGHUP, startup)

    def require(self) -> LoadedModel:
        current = self.current
        if current is None:
            raise ApiError(503, "model_unavailable", f"no model is loaded: {self.last_error or 'starting'}")
        return current

    def load(self) -> tuple[str, str | None]:
        """Load, verify and swap in the bundle; return (status, previous version). Blocking.

        Raises ModelError (one line) and keeps the current bundle when the new one is broken.
        """
        from socialscore.bundle import load_bundle, read_manifest

        with self._lock:
            previous = self.current
            old_version = previous.version if previous else None
            try:
                manifest = read_manifest(self.models_dir)
                if previous is not None and manifest == previous.manifest:
                    return "unchanged", old_version
                started = time.perf_counter()
                bundle = load_bundle(self.models_dir)
                check_nltk(bundle.nltk_resources, self.models_dir)
                verify_bundle(bundle)
            except SocialScoreError as exc:
                self.last_error = str(exc)
                raise
            except Exception as exc:  # unpickling surprises, missing keys in a hand-edited manifest…
                self.last_error = f"the model bundle in {self.models_dir} is broken: {exc.__class__.__name__}: {exc}"
                raise ModelError(self.last_error) from exc
            self.current = LoadedModel(bundle=bundle, manifest=bundle.manifest, loaded_at=time.time())
            self.last_error = None
            log.info("model %s loaded in %.0f ms (previous: %s)", bundle.version,
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


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> None:
    """Let the request through when auth is off or one presented key is valid; else 401."""
    settings: ApiSettings = request.app.state.settings
    if not settings.auth_enabled:
        return
    presented = [k for k in ((bearer.credentials if bearer else None), header_key) if k]
    if not presented:
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
                       {"WWW-Authenticate": "Bearer"})
    if not any([key_matches(k, settings.api_keys) for k in presented]):
        raise ApiError(401, "unauthorized", "invalid API key", {"WWW-Authenticate": "Bearer"})


Authenticated = Depends(require_api_key)
