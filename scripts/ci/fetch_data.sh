#!/usr/bin/env bash
# Cloud Build step `fetch-data`: copy gs:// training data into data/raw/ (local paths are used in place).
source "$(dirname "$0")/common.sh"
export CI_STEP=fetch-data
mkdir -p data/raw
for item in $TRAIN_DATA; do
  case "$item" in
    gs://*) log "fetching $item"; gsutil -q cp "$item" "data/raw/${item##*/}" ;;
    *) [ -f "$item" ] || die "training data $item does not exist"; log "using local $item" ;;
  esac
done
[ -n "$TRAIN_DATA" ] || die "no TRAIN_DATA configured (_TRAIN_DATA=gs://…): nothing to train a model to ship on"
