#!/usr/bin/env bash
# Cloud Build step `tests`: install the locked dependencies and run the test suite. A failing test
# fails this step and therefore the build (nothing below masks an exit status).
source "$(dirname "$0")/common.sh"
export CI_STEP=tests
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
log "uv sync --frozen (cache: $UV_CACHE_DIR)"
uv sync --frozen
bash scripts/ci/nltk_data.sh
export NLTK_DATA="$NLTK_DIR"
# PYTEST_ARGS selects a subset (the local two-run test runs one small file); default: the whole suite
read -r -a args <<< "${PYTEST_ARGS:--q}"
log "pytest ${args[*]}"
uv_run pytest "${args[@]}"
