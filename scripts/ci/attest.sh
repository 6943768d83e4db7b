#!/usr/bin/env bash
# Cloud Build step `attest` (cloud-sdk image): sign the pushed API image's digest for the Binary
# Authorization attestor of this pipeline, after the scan passed. The cluster's policy
# (deploy/binauthz/policy.yaml) admits only images with this attestation, and only the build's
# service account may use the attestor's KMS key: an image not built (and scanned) here cannot run.
source "$(dirname "$0")/common.sh"
export CI_STEP=attest
: "${ATTESTOR:?ATTESTOR (projects/P/attestors/NAME) is required}"
: "${ATTESTOR_KEY_VERSION:?ATTESTOR_KEY_VERSION (the KMS key version resource) is required}"
ref="$(cat "$CI_CACHE_DIR/image-ref")"
case "$ref" in *@sha256:*) ;; *) die "attestations name a digest, got $ref" ;; esac
log "attesting $ref for $ATTESTOR"
gcloud beta container binauthz attestations sign-and-create \
  --artifact-url "$ref" --attestor "$ATTESTOR" --keyversion "$ATTESTOR_KEY_VERSION"
log "attested $ref"
