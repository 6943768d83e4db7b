#!/usr/bin/env bash
# Cloud Build step `train-model`: on a cache hit restore the model for this key and skip training;
# on a miss train it. Either way models/ then holds a verified serving bundle, and the bundle is
# staged in $CI_CACHE_DIR/model/<key> for the save-cache step.
#
# Inputs (env): TRAIN_DATA, TRAIN_ROWS, TRAIN_SEED, TRAIN_MODE, TRAIN_SET, TRAIN_STEPS (common.sh);
# an argument, if given, replaces TRAIN_DATA.
source "$(dirname "$0")/common.sh"
export CI_STEP=train-model
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
[ $# -eq 0 ] || export TRAIN_DATA="$*"

key="$(cache_key model)"
staged="$CI_CACHE_DIR/model/$key"
log "model cache key $key"

if [ ! -f "$staged/bundle.json" ] && cache_usable && cache_exists model "$key"; then
  cache_fetch model "$key" "$staged"
fi

# The served model: bundle.json and every file it lists (written when production moves: a prod run
# whose model passed the quality gate).
served_files() {
  python3 -c "import json, sys; m = json.load(open(sys.argv[1])); print(' '.join([*m['files'], 'bundle.json']))" "$1/bundle.json"
}

verify_bundle() {
  uv_run python -c "from pathlib import Path; from socialscore.registry.serving import load_served; \
p = load_served(Path('models')); print('served model verified:', p.version)"
  sha256sum models/pipeline.json models/arrays.npz
}

mkdir -p models reports
if [ -f "$staged/bundle.json" ]; then
  log "cache hit: model $key restored, training skipped"
  for f in $(served_files "$staged"); do cp "$staged/$f" "models/$f"; done
  if [ -d "$staged/reports" ]; then cp -R "$staged/reports/." reports/; fi
  verify_bundle
  exit 0
fi

log "cache miss: model $key, training (mode $TRAIN_MODE)"
bash scripts/ci/nltk_data.sh
export NLTK_DATA="$NLTK_DIR"
data_args=()
if [ -z "$TRAIN_DATA" ]; then
  uv_run socialscore generate --output data/raw/example_comments.csv --rows "$TRAIN_ROWS" --seed "$TRAIN_SEED"
  data_args+=(--data data/raw/example_comments.csv)
else
  for item in $TRAIN_DATA; do
    case "$item" in gs://*) data_args+=(--data "data/raw/${item##*/}") ;; *) data_args+=(--data "$item") ;; esac
  done
fi
set_args=()
for override in $TRAIN_SET; do set_args+=(--set "$override"); done
read -r -a steps <<< "$TRAIN_STEPS"
uv_run socialscore run --mode "$TRAIN_MODE" --steps "${steps[@]}" "${data_args[@]}" "${set_args[@]}"
verify_bundle

mkdir -p "$staged.tmp/reports"
for f in $(served_files models); do cp "models/$f" "$staged.tmp/$f"; done
for f in reports/metrics_"$TRAIN_MODE".json; do if [ -f "$f" ]; then cp "$f" "$staged.tmp/reports/"; fi; done
rm -rf "$staged" && mv "$staged.tmp" "$staged"
log "model staged for save-cache: $staged"
