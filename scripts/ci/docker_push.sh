#!/usr/bin/env bash
# Cloud Build step `docker-push`: push the image under its commit tag and `latest`; record the digest.
source "$(dirname "$0")/common.sh"
export CI_STEP=docker-push
: "${IMAGE:?IMAGE is required}"
TAG="${TAG:-latest}"
docker push "$IMAGE:$TAG"
docker push "$IMAGE:latest"
mkdir -p "$CI_CACHE_DIR"
# deploy and Vertex use the immutable digest, not a movable tag
docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE:$TAG" | tee "$CI_CACHE_DIR/image-ref"
