#!/usr/bin/env bash
# Cloud Build step `train-model`: on a cache hit restore the model for this key and skip training;
# on a miss train it. Either way models/ then holds a verified serving bundle, and the bundle is
# staged in $CI_CACHE_DIR/model/<key> for the save-cache step.
#
# Inputs (env): TRAIN_DATA (required), TRAIN_MODE, TRAIN_SET, TRAIN_STEPS (common.sh);
# an argument, if given, replaces TRAIN_DATA.
source "$(dirname "$0")/common.sh"
export CI_STEP=train-model
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
[ $# -eq 0 ] || export TRAIN_DATA="$*"
# A deploy trains on real data or not at all: no generated example model is ever shipped.
[ -n "$TRAIN_DATA" ] || die "no training data configured: set TRAIN_DATA (Cloud Build: --substitutions \
_TRAIN_DATA=gs://BUCKET/cleaned_training_sample.csv; GitHub: the TRAIN_DATA variable). Refusing to \
train and ship a model on generated example data."

# The step's product is a serving bundle (models/bundle.json), which only a promoted model has; a prod
# run promotes a model that passes the gate, a dev run never promotes (README, "Models"). So a dev run
# here could only end in "bundle.json missing" after training for nothing: refuse it up front.
[ "$TRAIN_MODE" = prod ] || die "TRAIN_MODE=$TRAIN_MODE: only a prod run exports a serving bundle (dev \
models are never promoted). Use TRAIN_MODE=prod; for a quick local run shrink it with TRAIN_SET, e.g. \
TRAIN_SET='train.cv_folds=2' (docs/deployment.md, 'Run it locally')."
# the serving bundle is bundle.json plus the files it lists (stage_bundle.py); the registry (when the
# pipeline keeps one) travels with it so the quality-gate step can judge a restored model too
key="$(cache_key model)"
staged="$CI_CACHE_DIR/model/$key"
log "model cache key $key"

if [ ! -f "$staged/bundle/bundle.json" ] && cache_usable && cache_exists model "$key"; then
  cache_fetch model "$key" "$staged"
fi

verify_bundle() {
  uv_run python -c "from pathlib import Path; from socialscore.registry.serving import load_served; \
p = load_served(Path('models')); print('served model verified:', p.version)"
  sha256sum models/bundle.json
  ci_python scripts/ci/stage_bundle.py models build/bundle >/dev/null  # what the image build copies
}

mkdir -p models reports
if [ -f "$staged/bundle/bundle.json" ]; then
  log "cache hit: model $key restored, training skipped"
  cp -R "$staged/bundle/." models/
  if [ -d "$staged/registry" ]; then rm -rf models/registry && cp -R "$staged/registry" models/registry; fi
  if [ -d "$staged/reports" ]; then cp -R "$staged/reports/." reports/; fi
  verify_bundle
  exit 0
fi

log "cache miss: model $key, training (mode $TRAIN_MODE)"
bash scripts/ci/nltk_data.sh
export NLTK_DATA="$NLTK_DIR"
data_args=()
for item in $TRAIN_DATA; do
  case "$item" in gs://*) data_args+=(--data "data/raw/${item##*/}") ;; *) data_args+=(--data "$item") ;; esac
done
set_args=()
for override in $TRAIN_SET; do set_args+=(--set "$override"); done
read -r -a steps <<< "$TRAIN_STEPS"
uv_run socialscore run --mode "$TRAIN_MODE" --steps "${steps[@]}" "${data_args[@]}" "${set_args[@]}"
verify_bundle

rm -rf "$staged.tmp" && mkdir -p "$staged.tmp/reports"
ci_python scripts/ci/stage_bundle.py models "$staged.tmp/bundle" >/dev/null
if [ -d models/registry ]; then cp -R models/registry "$staged.tmp/registry"; fi
for f in reports/metrics_"$TRAIN_MODE".json; do if [ -f "$f" ]; then cp "$f" "$staged.tmp/reports/"; fi; done
rm -rf "$staged" && mv "$staged.tmp" "$staged"
log "model staged for save-cache: $staged"
