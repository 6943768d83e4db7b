"""Prometheus metrics for the API.

With several uvicorn workers, ``socialscore serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the
workers start, so each worker writes its samples there and ``/metrics`` adds them all up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SCORE_BUCKETS = tuple(float(b) for b in range(10, 101, 10))

REQUESTS = Counter(
    "socialscore_api_requests_total", "HTTP requests by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "socialscore_api_request_duration_seconds", "Request latency by endpoint.",
    ["endpoint"], buckets=LATENCY_BUCKETS,
)
PREDICTIONS = Counter(
    "socialscore_api_predictions_total", "Scored texts by predicted class.", ["predicted_class"]
)
SCORES = Histogram(
    "socialscore_api_social_score", "Social score (0-100) of scored texts.", buckets=SCORE_BUCKETS
)
ERRORS = Counter("socialscore_api_errors_total", "Error responses by error type.", ["type"])
CONNECTIONS_CLOSED = Counter(
    "socialscore_api_connections_closed_total",
    "Connections the server closed: read_timeout (request not received in time), over_limit (too many).",
    ["reason"],
)
MODEL_INFO = Gauge(
    "socialscore_api_model_info", "The model version being served (1) and replaced ones (0).",
    ["version"], multiprocess_mode="livemax",
)


def record_predictions(is_toxic: Iterable[bool], social_scores: Iterable[int]) -> None:
    toxic = 0
    total = 0
    for flag, score in zip(is_toxic, social_scores, strict=True):
        toxic += bool(flag)
        total += 1
        SCORES.observe(score)
    if toxic:
        PREDICTIONS.labels("toxic").inc(toxic)
    if total - toxic:
        PREDICTIONS.labels("non_toxic").inc(total - toxic)


def set_model_version(new: str | None, old: str | None) -> None:
    if old is not None and old != new:
        MODEL_INFO.labels(old).set(0)
    if new is not None:
        MODEL_INFO.labels(new).set(1)


def exposition() -> tuple[bytes, str]:
    """The text exposition format: this process's metrics, or all workers' in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return _generate_latest(registry), CONTENT_TYPE_LATEST
    return _generate_latest(), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
