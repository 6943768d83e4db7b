#!/usr/bin/env bash
# Cloud Build step `save-cache` (gsutil image): upload what this build produced under keys the cache
# does not hold yet. Keys are content hashes, so an existing key is never rewritten.
source "$(dirname "$0")/common.sh"
export CI_STEP=save-cache
CACHES="${CI_CACHES:-uv nltk model}"
for name in $CACHES; do
  key="$(cache_key "$name")"
  case "$name" in
    uv) src="$CI_CACHE_DIR/uv" ;;
    nltk) [ "$key" != none ] || continue; src="$NLTK_DIR" ;;
    model) [ "$key" != none ] || continue; src="$CI_CACHE_DIR/model/$key" ;;
    *) die "unknown cache '$name'" ;;
  esac
  if [ -d "$src" ] && [ -n "$(ls -A "$src")" ]; then
    cache_put "$name" "$key" "$src"
  else
    log "nothing to save for $name ($src is empty)"
  fi
done
