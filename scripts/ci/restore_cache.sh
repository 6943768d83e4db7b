#!/usr/bin/env bash
# Cloud Build step `restore-cache` (gsutil image): stage the uv cache, the NLTK data and — when the
# model key is known to the cache — the trained model, for the steps that follow.
source "$(dirname "$0")/common.sh"
export CI_STEP=restore-cache
CACHES="${CI_CACHES:-uv nltk model}"
mkdir -p "$CI_CACHE_DIR"
for name in $CACHES; do
  key="$(cache_key "$name")"
  case "$name" in
    uv) dest="$CI_CACHE_DIR/uv" ;;
    nltk) [ "$key" != none ] || { log "no NLTK_RESOURCES: nothing to restore"; continue; }; dest="$NLTK_DIR" ;;
    model) [ "$key" != none ] || { log "no TRAIN_DATA: no model cache"; continue; }; dest="$CI_CACHE_DIR/model/$key" ;;
    *) die "unknown cache '$name'" ;;
  esac
  # a miss is the normal first run, not a failure; a failed download of an existing entry is
  if cache_exists "$name" "$key"; then
    cache_fetch "$name" "$key" "$dest"
  else
    log "cache miss: $name ($key)"
  fi
done
