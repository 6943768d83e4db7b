#!/usr/bin/env bash
# Cloud Build step `docker-build`: build the API image with the serving bundle from train-model
# (exactly the files bundle.json lists) and only the NLTK data that bundle needs, plus the Vertex
# pipeline image (`--target pipeline`: every runtime dependency, no model, runs as root). Reuses the
# previous image's layers (inline BuildKit cache).
source "$(dirname "$0")/common.sh"
export CI_STEP=docker-build
: "${IMAGE:?IMAGE (registry/repo/name) is required}"
TAG="${TAG:-latest}"
[ -f models/bundle.json ] || die "models/bundle.json is missing: run the train-model step first"
mkdir -p build/sbom  # the sbom step (syft) writes the SBOM there
log "bundle: $(ci_python scripts/ci/stage_bundle.py models build/bundle | tr '\n' ' ')"

nltk_count="$(ci_python scripts/ci/stage_nltk.py models "$NLTK_DIR" build/nltk_data)"
build_args=(--build-arg BUILDKIT_INLINE_CACHE=1 --build-arg MODELS_SRC=build/bundle)
if [ -n "${REVISION:-}" ]; then build_args+=(--label "org.opencontainers.image.revision=$REVISION"); fi
if [ "$nltk_count" -gt 0 ]; then
  log "the model needs $nltk_count NLTK resource(s): copying them and nltk (serve-nltk) into the image"
  build_args+=(--build-arg NLTK_DATA_SRC=build/nltk_data --build-arg SERVE_GROUP=serve-nltk)
else
  log "the model needs no NLTK data"
fi

# the previous image seeds the layer cache; its absence (first build) is expected
if docker pull --quiet "$IMAGE:latest" >/dev/null 2>&1; then build_args+=(--cache-from "$IMAGE:latest"); fi
export DOCKER_BUILDKIT=1
docker build "${build_args[@]}" --target runtime -t "$IMAGE:$TAG" -t "$IMAGE:latest" .
docker build "${build_args[@]}" --target pipeline -t "$IMAGE-pipeline:$TAG" -t "$IMAGE-pipeline:latest" .
log "built $IMAGE:$TAG and $IMAGE-pipeline:$TAG"
