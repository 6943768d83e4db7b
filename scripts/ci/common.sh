# Sourced by every scripts/ci/*.sh: strict mode, the workspace, logging and the cache backend.
#
# CACHE_URL   gs://bucket/prefix (needs gsutil) or file:///some/dir; empty = no remote cache
# CI_CACHE_DIR where restored caches are staged between steps (default: <workspace>/.ci-cache)
set -euo pipefail

CI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$CI_ROOT"
export CI_CACHE_DIR="${CI_CACHE_DIR:-$CI_ROOT/.ci-cache}"
CACHE_URL="${CACHE_URL:-}"

log() { printf '==> [%s] %s\n' "${CI_STEP:-ci}" "$*"; }
die() { printf '!!! [%s] ERROR: %s\n' "${CI_STEP:-ci}" "$*" >&2; exit 1; }

# one place that knows which python runs the stdlib-only helpers (the gsutil image has python3)
ci_python() { if command -v python3 >/dev/null 2>&1; then python3 "$@"; else python "$@"; fi; }

cache_key() { ci_python "$CI_ROOT/scripts/ci/cache_keys.py" "$1"; }

_cache_object() { printf '%s/%s/%s.tar.gz' "${CACHE_URL%/}" "$1" "$2"; }

cache_exists() {  # cache_exists NAME KEY
  local url; url="$(_cache_object "$1" "$2")"
  case "$CACHE_URL" in
    gs://*) gsutil -q stat "$url" ;;
    file://*) [ -f "${url#file://}" ] ;;
    "") return 1 ;;
    *) die "CACHE_URL must start with gs:// or file:// (got '$CACHE_URL')" ;;
  esac
}

cache_usable() {  # can this machine reach the backend? (the uv image has no gsutil: restore-cache staged it)
  case "$CACHE_URL" in
    file://*) return 0 ;;
    gs://*) command -v gsutil >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

cache_fetch() {  # cache_fetch NAME KEY DEST_DIR — call only after cache_exists said yes
  local url; url="$(_cache_object "$1" "$2")"
  mkdir -p "$3"
  case "$CACHE_URL" in
    gs://*) gsutil -q cp "$url" - | tar -xzf - -C "$3" ;;
    file://*) tar -xzf "${url#file://}" -C "$3" ;;
  esac
  log "cache restored: $1 ($2)"
}

cache_put() {  # cache_put NAME KEY SRC_DIR — immutable: an existing key is never overwritten
  local name="$1" key="$2" src="$3" url path
  url="$(_cache_object "$name" "$key")"
  [ -n "$CACHE_URL" ] || { log "no CACHE_URL: $name not saved"; return 0; }
  if cache_exists "$name" "$key"; then
    log "cache already holds $name ($key)"
    return 0
  fi
  case "$CACHE_URL" in
    gs://*) tar -C "$src" -czf - . | gsutil -q cp - "$url" ;;
    file://*)
      path="${url#file://}"
      mkdir -p "$(dirname "$path")"
      tar -C "$src" -czf "$path.tmp.$$" .
      mv "$path.tmp.$$" "$path"  # readers never see a half-written archive
      ;;
  esac
  log "cache saved: $name ($key)"
}

# uv: the Python step image has none, so the version the Dockerfile pins (by the sha256 of its wheels,
# deploy/docker/uv-requirements.txt) is installed into the workspace once per build; a machine that
# has uv (a laptop, GitHub's runner) keeps its own.
UV_TOOLS="$CI_CACHE_DIR/tools"
export PATH="$UV_TOOLS/bin:$PATH"
ensure_uv() {
  command -v uv >/dev/null 2>&1 && return 0
  log "installing uv (deploy/docker/uv-requirements.txt, hash-pinned) into $UV_TOOLS"
  ci_python -m pip install --quiet --no-cache-dir --disable-pip-version-check --require-hashes \
    --target "$UV_TOOLS" -r "$CI_ROOT/deploy/docker/uv-requirements.txt"
}

# The project's uv invocation: frozen to uv.lock, the cache dir shared between steps.
uv_run() { ensure_uv; uv run --frozen "$@"; }

# Training inputs (the model cache key is computed from exactly these; see cache_keys.py)
export TRAIN_DATA="${TRAIN_DATA:-}"            # space-separated CSV paths (gs:// fetched by fetch_data.sh); required by train-model
export TRAIN_MODE="${TRAIN_MODE:-prod}"
export TRAIN_SET="${TRAIN_SET:-}"              # space-separated `--set key=value` overrides
export TRAIN_STEPS="${TRAIN_STEPS:-extract transform load features train evaluate}"
export NLTK_RESOURCES="${NLTK_RESOURCES:-}"    # NLTK resources to provide in data/cache/nltk_data
export NLTK_DIR="$CI_ROOT/data/cache/nltk_data"
