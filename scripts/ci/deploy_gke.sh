#!/usr/bin/env bash
# Cloud Build step `deploy-gke`: apply deploy/k8s with the new image (by digest), wait for the rollout
# within ROLLOUT_TIMEOUT, then test the API's health through the Service and show the pods. A rollout
# that fails, times out or comes up unhealthy is undone (`kubectl rollout undo` to the revision that
# served before) and the step — so the build — fails with the reason. It never hangs the build: every
# wait has a deadline (kubectl's own, and `timeout` around it).
source "$(dirname "$0")/common.sh"
export CI_STEP=deploy-gke
# the cluster: GKE credentials from gcloud (CLUSTER, LOCATION, PROJECT), or a given KUBECONFIG (GitHub)
if [ -z "${KUBECONFIG:-}" ]; then
  : "${CLUSTER:?CLUSTER is required}" "${LOCATION:?LOCATION (zone or region of the cluster) is required}"
  : "${PROJECT:?PROJECT is required}"
fi
NAMESPACE=production
DEPLOYMENT=social-score-api
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-300s}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-10s}"
timeout_s="${ROLLOUT_TIMEOUT%s}"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die "ROLLOUT_TIMEOUT must be seconds, like 300s (got $ROLLOUT_TIMEOUT)"
k() { kubectl -n "$NAMESPACE" "$@"; }

pods() {  # what the pods are doing: the build log's evidence either way
  log "pods:"
  k get pods -l "app=$DEPLOYMENT" -o wide || log "(could not list the pods)"
}

fail_and_undo() {  # fail_and_undo REASON — roll back to the revision that served before, then fail
  local reason="$1"
  pods
  k get events --field-selector "involvedObject.kind=Pod" --sort-by=.lastTimestamp | tail -15 \
    || log "(could not list the events)"
  if [ -z "$previous" ]; then
    die "DEPLOY FAILED: $reason. This was the first rollout of $DEPLOYMENT: there is no revision to undo to."
  fi
  log "rolling back: kubectl rollout undo deployment/$DEPLOYMENT --to-revision=$previous"
  if k rollout undo "deployment/$DEPLOYMENT" --to-revision="$previous" \
    && timeout "$((timeout_s + 30))" kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout="$ROLLOUT_TIMEOUT"; then
    die "DEPLOY FAILED and ROLLED BACK to revision $previous: $reason"
  fi
  die "DEPLOY FAILED: $reason; the rollback to revision $previous did not complete either: act now (docs/deployment.md, 'Roll back')"
}

if [ -f "$CI_CACHE_DIR/image-ref" ]; then IMAGE_REF="$(cat "$CI_CACHE_DIR/image-ref")"; fi
IMAGE_REF="${IMAGE_REF:-${IMAGE:?IMAGE or IMAGE_REF is required}:${TAG:-latest}}"
case "$IMAGE_REF" in *@sha256:*) ;; *) die "deploy by digest only (Binary Authorization, reproducible rollbacks): got $IMAGE_REF" ;; esac
log "deploying $IMAGE_REF to ${CLUSTER:-the KUBECONFIG cluster} (${LOCATION:-}), rollout timeout $ROLLOUT_TIMEOUT"

if [ -z "${KUBECONFIG:-}" ]; then
  gcloud container clusters get-credentials "$CLUSTER" --location "$LOCATION" --project "$PROJECT"
fi
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl apply -f deploy/k8s/namespace.yaml
k get secret social-score-api-keys >/dev/null \
  || die "secret $NAMESPACE/social-score-api-keys is missing (docs/deployment.md, 'Secrets')"

# the revision serving now: what a failed rollout goes back to (empty on the very first deploy)
previous="$(k get "deployment/$DEPLOYMENT" --ignore-not-found \
  -o 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}')"
log "revision serving before this deploy: ${previous:-none (first deploy)}"

overlay="${K8S_OVERLAY_DIR:-$CI_ROOT/build/k8s-overlay}"
rm -rf "$overlay"
ci_python scripts/ci/k8s_overlay.py write "$IMAGE_REF" "$overlay"
kubectl apply -k "$overlay"

status_log="$(mktemp)"
if ! timeout "$((timeout_s + 30))" kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" \
  --timeout="$ROLLOUT_TIMEOUT" 2>&1 | tee "$status_log"; then
  why="$(tail -1 "$status_log")"
  case "$why" in
    *"timed out"*|"") fail_and_undo "the rollout did not finish within $ROLLOUT_TIMEOUT (${why:-timeout})" ;;
    *) fail_and_undo "the rollout failed: $why" ;;
  esac
fi

# the API's health through the Service (the API server's proxy: no external IP or port-forward)
for path in health ready; do
  if ! body="$(kubectl get --request-timeout="$HEALTH_TIMEOUT" --raw \
    "/api/v1/namespaces/$NAMESPACE/services/$DEPLOYMENT:http/proxy/$path" 2>&1)"; then
    fail_and_undo "GET /$path through the Service failed after the rollout: $body"
  fi
  log "GET /$path → $body"
done
pods
log "deployed $IMAGE_REF"
