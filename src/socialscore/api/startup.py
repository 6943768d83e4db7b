"""What a worker does before ``/ready`` answers 200, each step logged: the shipped numba cache put where
numba reads it and the shipped language model mapped, then (after the model is loaded and verified) every lazy builder of the scoring path
warmed — numba kernels, PII checkers (phone metadata, the public-suffix list), the language identifier —
so no request pays for one. Serving imports no scikit-learn, scipy.stats, pandas or SQLAlchemy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from socialscore.api.numba_cache import WARM_TEXTS, install_language_model, install_shipped_cache, kernel_stats

log = logging.getLogger("socialscore.api")


def prepare_kernels() -> None:
    """Copy the shipped numba cache into NUMBA_CACHE_DIR (once per worker; files already there are kept)
    and map the shipped unpacked language model (never the user's cache: a pod's home may be a small volume)."""
    from socialscore.modeling.behaviour.language import skip_user_cache

    skip_user_cache()
    log.info("start-up: %s", install_shipped_cache())
    log.info("start-up: %s", install_language_model())


def warm_up(pipeline: Any, score: Callable[[Any, list[str]], Any]) -> None:
    """Score texts that reach every detector and kernel with ``score`` (requests' own entry point; blocking)."""
    wall, cpu = time.perf_counter(), time.process_time()
    score(pipeline, WARM_TEXTS)
    score(pipeline, WARM_TEXTS[:1])  # a single text: the path of /v1/score
    stats = kernel_stats()
    log.info("start-up: warmed kernels, PII checkers and language identifier in %.0f ms (%.2f CPU s; "
             "numba: %d loaded from cache, %d compiled)", 1000 * (time.perf_counter() - wall),
             time.process_time() - cpu, stats["hits"], stats["misses"])


def log_ready(started_wall: float, version: str | None) -> None:
    """The line that says the worker is ready, with its wall time since start-up and CPU since the process began."""
    log.info("start-up: ready in %.2f s (process CPU %.2f s), serving %s", time.perf_counter() - started_wall,
             time.process_time(), version or "no model")
