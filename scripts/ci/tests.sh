#!/usr/bin/env bash
# Cloud Build step `tests`: install the locked dependencies and run the test suite with everything the
# tests need (PostgreSQL, a browser) and SOCIALSCORE_NO_SKIP=1, so a missing service fails the build
# instead of skipping its tests silently. A failing test fails this step and therefore the build.
source "$(dirname "$0")/common.sh"
export CI_STEP=tests
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
export SOCIALSCORE_NO_SKIP="${SOCIALSCORE_NO_SKIP:-1}"
if [ "$SOCIALSCORE_NO_SKIP" = 1 ]; then  # every test must run: provide what they need
  if [ -z "${SOCIALSCORE_TEST_DATABASE_URL:-}" ]; then
    SOCIALSCORE_TEST_DATABASE_URL="$(bash scripts/ci/postgres.sh)"
    export SOCIALSCORE_TEST_DATABASE_URL
  fi
  # the browser test takes chromium, chromium-browser or google-chrome (GitHub's runners have the last)
  have_browser() { for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null && return 0; done; return 1; }
  if ! command -v chromedriver >/dev/null || ! have_browser; then
    [ "$(id -u)" = 0 ] || die "the browser test needs chromium + chromedriver (apt-get install chromium chromium-driver)"
    log "installing chromium + chromedriver for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
fi
log "PostgreSQL for the tests: ${SOCIALSCORE_TEST_DATABASE_URL:-none}"
ensure_uv
log "uv sync --frozen (cache: $UV_CACHE_DIR)"
uv sync --frozen
bash scripts/ci/nltk_data.sh
export NLTK_DATA="$NLTK_DIR"
# PYTEST_ARGS selects a subset (the local two-run test runs one small file); default: the whole suite
read -r -a args <<< "${PYTEST_ARGS:--q}"
log "pytest ${args[*]} (SOCIALSCORE_NO_SKIP=$SOCIALSCORE_NO_SKIP)"
uv_run pytest "${args[@]}"
