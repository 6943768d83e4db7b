#!/usr/bin/env bash
# Cloud Build step `deploy-gke`: apply deploy/k8s with the new image, wait for the rollout, check the
# service's /health and /ready through the API server. A failure is printed as a loud banner and
# fails this step; cloudbuild.yaml marks the step allowFailure, so the build is not blocked (the
# original spec's "non-blocking" deploy) while the failure stays visible in the build's status.
source "$(dirname "$0")/common.sh"
export CI_STEP=deploy-gke
: "${CLUSTER:?CLUSTER is required}" "${LOCATION:?LOCATION (zone or region of the cluster) is required}"
: "${PROJECT:?PROJECT is required}"
NAMESPACE=production
DEPLOYMENT=social-score-api
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-300s}"

banner() {
  local status=$?
  [ "$status" -eq 0 ] && return
  {
    printf '\n%s\n' "################################################################################"
    printf '#  DEPLOY TO GKE FAILED (exit %s) — %s/%s in %s\n' "$status" "$NAMESPACE" "$DEPLOYMENT" "$CLUSTER"
    printf '#  The previous ReplicaSet keeps serving (maxUnavailable 0). Inspect and roll back:\n'
    printf '#    kubectl -n %s rollout status deployment/%s\n' "$NAMESPACE" "$DEPLOYMENT"
    printf '#    kubectl -n %s rollout undo deployment/%s\n' "$NAMESPACE" "$DEPLOYMENT"
    printf '%s\n\n' "################################################################################"
  } >&2
}
trap banner EXIT

if [ -f "$CI_CACHE_DIR/image-ref" ]; then IMAGE_REF="$(cat "$CI_CACHE_DIR/image-ref")"; fi
IMAGE_REF="${IMAGE_REF:-${IMAGE:?IMAGE or IMAGE_REF is required}:${TAG:-latest}}"
log "deploying $IMAGE_REF to $CLUSTER ($LOCATION)"

gcloud container clusters get-credentials "$CLUSTER" --location "$LOCATION" --project "$PROJECT"
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl apply -f deploy/k8s/namespace.yaml
kubectl -n "$NAMESPACE" get secret social-score-api-keys >/dev/null \
  || die "secret $NAMESPACE/social-score-api-keys is missing (docs/deployment.md, 'Secrets')"

overlay="$CI_ROOT/build/k8s-overlay"
rm -rf "$overlay"
ci_python scripts/ci/k8s_overlay.py write "$IMAGE_REF" "$overlay"
kubectl apply -k "$overlay"
kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout="$ROLLOUT_TIMEOUT"

# the Service through the API server's proxy: no external IP or port-forward needed
for path in health ready; do
  body="$(kubectl get --raw "/api/v1/namespaces/$NAMESPACE/services/$DEPLOYMENT:http/proxy/$path")"
  log "GET /$path → $body"
done
log "deployed $IMAGE_REF"
