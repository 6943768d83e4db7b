#!/usr/bin/env bash
# Cloud Build step `docker-push`: push the API and pipeline images under the build's tag and
# `latest`; record their digests (deploy-gke and vertex-pipeline use the digests, not a movable tag).
source "$(dirname "$0")/common.sh"
export CI_STEP=docker-push
: "${IMAGE:?IMAGE is required}"
TAG="${TAG:-latest}"
mkdir -p "$CI_CACHE_DIR"
for name in "$IMAGE" "$IMAGE-pipeline"; do
  docker push "$name:$TAG"
  docker push "$name:latest"
done
docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE:$TAG" | tee "$CI_CACHE_DIR/image-ref"
docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE-pipeline:$TAG" | tee "$CI_CACHE_DIR/pipeline-image-ref"
