#!/usr/bin/env bash
# Cloud Build step `vertex-pipeline`: compile the Kubeflow pipeline and submit it to Vertex AI with
# the pipeline image just pushed (the API image's layers, running as root: KFP writes artifacts to
# root-owned mounts). Runs in parallel with deploy-gke.
source "$(dirname "$0")/common.sh"
export CI_STEP=vertex-pipeline
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CI_CACHE_DIR/uv}"
: "${PROJECT:?PROJECT is required}" "${REGION:?REGION is required}" "${PIPELINE_ROOT:?PIPELINE_ROOT (gs://…) is required}"
if [ -f "$CI_CACHE_DIR/pipeline-image-ref" ]; then PIPELINE_IMAGE_REF="$(cat "$CI_CACHE_DIR/pipeline-image-ref")"; fi
PIPELINE_IMAGE_REF="${PIPELINE_IMAGE_REF:-${IMAGE:?IMAGE or PIPELINE_IMAGE_REF is required}-pipeline:${TAG:-latest}}"
mkdir -p build
ensure_uv
uv sync --frozen --extra vertex
uv_run --extra vertex socialscore vertex compile --output build/pipeline.yaml
# pipeline parameters (training data, gate metric and threshold, where to publish) come from
# VERTEX_PARAMS, a JSON object: e.g. {"data_uri": "gs://b/train.csv", "min_metric": 0.8}
uv_run --extra vertex python - <<PY
import json, os
from pathlib import Path
from socialscore.deploy.vertex import submit_pipeline

params = json.loads(os.environ.get("VERTEX_PARAMS") or "{}")
job = submit_pipeline("$PROJECT", "$REGION", "$PIPELINE_ROOT", "$PIPELINE_IMAGE_REF", Path("build/pipeline.yaml"),
                      parameter_values=params)
print("submitted Vertex AI pipeline job:", job)
PY
