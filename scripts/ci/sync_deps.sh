#!/usr/bin/env bash
# Cloud Build step `sync-deps`: install the locked dependencies (uv's cache in the workspace) and the
# NLTK data, so the `save-deps-cache` step can save both BEFORE the tests run: a failing test or
# training step no longer throws away a warm uv cache (Cloud Build has no "always run" step).
source "$(dirname "$0")/common.sh"
export CI_STEP=sync-deps
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
ensure_uv
log "uv sync --frozen (cache: $UV_CACHE_DIR)"
uv sync --frozen
bash scripts/ci/nltk_data.sh
