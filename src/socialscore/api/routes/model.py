"""The served model: what it is, and swapping in what its alias names now."""

from __future__ import annotations

import os
import signal

from fastapi import APIRouter

from socialscore.api.deps import Admin, Authenticated, Holder, Reloader, ServedModel
from socialscore.api.errors import ApiError, documented
from socialscore.api.schemas import ModelInfo, ReloadResult
from socialscore.errors import SocialScoreError

SUPERVISOR_ENV = "_SOCIALSCORE_SUPERVISOR_PID"  # set by socialscore.api.server for --workers > 1

router = APIRouter(tags=["model"])


@router.get("/v1/model", response_model=ModelInfo, responses=documented(401, 429, 503),
            dependencies=[Authenticated])
async def model_info(loaded: ServedModel, holder: Holder) -> dict:
    """The served model: version, training time, metrics, threshold and labels."""
    manifest, pipeline = loaded.manifest, loaded.pipeline
    return {
        "model_version": loaded.version, "alias": holder.alias, "trained_at": manifest.get("trained_at"),
        "labels": pipeline.labels, "primary_label": pipeline.primary_label, "threshold": pipeline.threshold,
        "thresholds": pipeline.thresholds, "high_risk": pipeline.high_risk, "gate": manifest.get("gate"),
        "metrics": manifest.get("metrics"), "test_metrics": manifest.get("test_metrics"),
        "nltk_resources": pipeline.nltk_resources,
    }


@router.post("/v1/admin/reload", response_model=ReloadResult, responses=documented(401, 403, 409, 429),
             dependencies=[Admin])
async def reload_model(reload: Reloader, holder: Holder) -> dict:
    """Load the model the served alias names again (after a promote or rollback) and swap it in atomically.

    Needs an admin key (SOCIALSCORE_ADMIN_KEYS); a scoring key gets 403. Requests in flight finish on
    the old model; a broken or tampered model is refused (409) and the old one keeps serving. With
    several workers, every worker reloads.
    """
    try:
        status, previous = await reload("HTTP")
    except SocialScoreError as exc:
        raise ApiError(409, "reload_refused", f"reload refused, still serving the old model: {exc}") from None
    if status == "reloaded" and os.environ.get(SUPERVISOR_ENV) == str(os.getppid()):
        os.kill(os.getppid(), signal.SIGHUP)  # the supervisor passes it on to every worker
    return {"status": status, "model_version": holder.require().version, "previous_version": previous}
