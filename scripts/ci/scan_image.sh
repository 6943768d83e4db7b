#!/usr/bin/env bash
# Cloud Build step `scan` (cloud-sdk image): Artifact Analysis On-Demand Scanning of the pushed images
# (by digest, scanned in the registry: --remote), failing the build on any vulnerability at or above
# SCAN_FAIL_SEVERITY (CRITICAL, HIGH, MEDIUM, LOW, MINIMAL; NONE reports only). The reports are kept
# in build/scan/ for the build's log.
source "$(dirname "$0")/common.sh"
export CI_STEP=scan
SCAN_FAIL_SEVERITY="${SCAN_FAIL_SEVERITY:-HIGH}"
: "${SCAN_LOCATION:?SCAN_LOCATION (On-Demand Scanning location: us, europe or asia) is required}"
mkdir -p build/scan
status=0
for ref_file in image-ref pipeline-image-ref; do
  [ -f "$CI_CACHE_DIR/$ref_file" ] || die "$CI_CACHE_DIR/$ref_file is missing: run docker-push first"
  ref="$(cat "$CI_CACHE_DIR/$ref_file")"
  log "scanning $ref (fails at $SCAN_FAIL_SEVERITY or above)"
  scan="$(gcloud artifacts docker images scan "$ref" --remote --location "$SCAN_LOCATION" --format 'value(response.scan)')"
  gcloud artifacts docker images list-vulnerabilities "$scan" --location "$SCAN_LOCATION" --format json \
    >"build/scan/$ref_file.json"
  ci_python scripts/ci/scan_gate.py "$SCAN_FAIL_SEVERITY" "build/scan/$ref_file.json" || status=1
done
[ "$status" -eq 0 ] || die "an image holds vulnerabilities at or above $SCAN_FAIL_SEVERITY (above; build/scan/)"
log "both images pass the scan at $SCAN_FAIL_SEVERITY"
