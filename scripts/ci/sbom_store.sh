#!/usr/bin/env bash
# Cloud Build step `sbom-store` (cloud-sdk image): store the SBOM that the `sbom` step made (syft, from
# the built image in the worker's Docker daemon: CycloneDX 1.5 JSON, a format Artifact Analysis takes)
# with the pushed image: `gcloud artifacts sbom load` puts the file in Cloud Storage and attaches an
# SBOM reference occurrence to the image's digest (`gcloud artifacts sbom list --resource=IMAGE@DIGEST`).
source "$(dirname "$0")/common.sh"
export CI_STEP=sbom-store
SBOM_FILE="${SBOM_FILE:-build/sbom/social-score-api.cdx.json}"
[ -s "$SBOM_FILE" ] || die "$SBOM_FILE is missing or empty: the sbom step makes it"
ci_python -c "import json, sys; d = json.load(open(sys.argv[1])); assert d['bomFormat'] == 'CycloneDX', d.get('bomFormat'); print('SBOM:', len(d.get('components', [])), 'components, spec', d['specVersion'])" "$SBOM_FILE"
ref="$(cat "$CI_CACHE_DIR/image-ref")"
gcloud artifacts sbom load --source "$SBOM_FILE" --uri "$ref"
log "SBOM stored with $ref"
