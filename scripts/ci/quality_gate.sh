#!/usr/bin/env bash
# Cloud Build step `quality-gate`: between train-model and docker-build. Asks the model registry
# whether the newest registered version of TRAIN_MODE passed the quality gate; a refused model (or
# none at all) fails the build here, so it is never built into an image, pushed or deployed.
source "$(dirname "$0")/common.sh"
export CI_STEP=quality-gate
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
[ -f models/bundle.json ] || die "models/bundle.json is missing: run the train-model step first"
log "socialscore models gate --mode $TRAIN_MODE"
uv_run socialscore models gate --mode "$TRAIN_MODE"
log "the model passed the quality gate"
