#!/usr/bin/env bash
# Build the API image for real (buildah, vfs storage, chroot isolation: no daemon) and run it the
# way the Deployment runs it (podman: its env, user, read-only root, dropped capabilities, tmpfs /tmp,
# the API-key Secret as a mounted file), then check it like a platform engineer would:
#   /health, /ready, scoring with and without a key, /metrics, a clean SIGTERM (exit code, time),
#   the image size, which layer holds the model, the cold start under the Deployment's CPU and memory
#   limits with an empty /tmp (wall and CPU seconds to /health and /ready, memory after start and at
#   the peak of a scoring burst), and (SMOKE_REBUILD=1, default) the new layers a
#   code-only change ships; (SMOKE_VERTEX=1, default) the Vertex components' compiled commands in the
#   pipeline image against a root-owned artifact volume.
#
#   apt-get install -y buildah podman debootstrap runc   # once
#   scripts/ci/image_smoke.sh                          # prints the figures; exit 0 = every check passed
#
# Slow (minutes): not part of .ci/run. A model is trained first when models/bundle.json is missing
# (dev mode, on ../shared/data/jigsaw/cleaned_training_sample.csv when present). The public base image
# is used when it can be pulled; otherwise a Debian base is built locally (local_base_image.sh).
# Env: SMOKE_TAG (localhost/social-score-api:smoke), SMOKE_PORT (18080), SMOKE_DATA (training CSV),
#      SMOKE_REBUILD (1), SMOKE_VERTEX (1), SMOKE_PULL_TIMEOUT (30 s), SMOKE_STORAGE (overlay when
#      available, else vfs), SMOKE_ROOT (container storage root), SMOKE_RUNTIME (runc when installed),
#      SMOKE_CACHE (/var/tmp/socialscore-image-smoke), SMOKE_REPORT (build/image-smoke.json: the
#      measured figures), SMOKE_READY_WALL_CAP (1800 s: only stops a hung run; the readiness check
#      itself is on CPU seconds, see step 5).
source "$(dirname "$0")/common.sh"
export CI_STEP=image-smoke
for tool in buildah podman curl; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y buildah podman debootstrap runc curl"
done
TAG="${SMOKE_TAG:-localhost/social-score-api:smoke}"
PIPELINE_TAG="${TAG%:*}-pipeline:${TAG##*:}"
PORT="${SMOKE_PORT:-18080}"
# Storage: overlay where the kernel has it (fast), else vfs (works everywhere, copies every layer in
# full: a build takes ~7x longer); a root of its own under SMOKE_CACHE, since podman refuses to mix
# drivers in one root. The image built is the same either way. Runtime: runc when installed (crun
# rejects hosts with hybrid cgroup v1/v2, like the sandbox these figures come from).
export SMOKE_CACHE="${SMOKE_CACHE:-/var/tmp/socialscore-image-smoke}"
if [ -z "${SMOKE_STORAGE:-}" ]; then
  if grep -qw overlay /proc/filesystems; then SMOKE_STORAGE=overlay; else SMOKE_STORAGE=vfs; fi
fi
SMOKE_ROOT="${SMOKE_ROOT:-$SMOKE_CACHE/containers-$SMOKE_STORAGE}"
if [ -z "${SMOKE_RUNTIME:-}" ] && command -v runc >/dev/null; then SMOKE_RUNTIME=runc; fi
# (the runroot holds sockets and locks: podman wants its path under 50 characters)
STORAGE=(--storage-driver "$SMOKE_STORAGE" --root "$SMOKE_ROOT" --runroot "/run/socialscore-smoke-$SMOKE_STORAGE")
PODMAN_FLAGS=("${STORAGE[@]}")
if [ -n "${SMOKE_RUNTIME:-}" ]; then PODMAN_FLAGS+=(--runtime "$SMOKE_RUNTIME"); fi
export PODMAN="podman ${PODMAN_FLAGS[*]}"
# Sandboxes (like the one these figures come from) refuse podman's default rlimits (RLIMIT_NOFILE
# 1048576) and crun rejects hybrid cgroup v1/v2 hosts: set modest limits, and SMOKE_RUNTIME=runc there.
export PODMAN_RUN_OPTS="--ulimit nofile=$(ulimit -Sn):$(ulimit -Sn) --ulimit nproc=4096:4096"
read -r -a RUN_OPTS <<<"$PODMAN_RUN_OPTS"
work="$(mktemp -d)"
container=""
cleanup() {
  if [ -n "$container" ]; then podman "${PODMAN_FLAGS[@]}" rm -f "$container" >/dev/null 2>&1 || log "could not remove $container"; fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {  # check DESCRIPTION COMMAND… — record a pass or a failure, never stop at the first
  local what="$1"; shift
  if "$@"; then log "PASS $what"; else log "FAIL $what"; failures=$((failures + 1)); fi
}

# 1) a model bundle to bake in
if [ ! -f models/bundle.json ]; then
  data="${SMOKE_DATA:-$CI_ROOT/../shared/data/jigsaw/cleaned_training_sample.csv}"
  data_args=()
  if [ -f "$data" ]; then data_args=(--data "$data"); else log "no $data: training on the generated example data"; fi
  log "no models/bundle.json: training a dev model"
  uv_run socialscore run --mode dev "${data_args[@]}"
  # a dev run never becomes the served model by itself: this check is about the image, so promote it
  # by hand, with the reason recorded in the registry
  version="$(python3 -c "import json; print(json.load(open('models/model_metadata_dev.json'))['model_version'])")"
  uv_run socialscore models promote "$version" --force --reason "image smoke test: a dev model to bake in"
fi
ci_python scripts/ci/stage_bundle.py models build/bundle >"$work/bundle-files"
log "bundle files: $(tr '\n' ' ' <"$work/bundle-files")"
nltk_src=deploy/docker/no-nltk-data
serve_group=serve
if [ "$(ci_python scripts/ci/stage_nltk.py models "$NLTK_DIR" build/nltk_data)" -gt 0 ]; then
  nltk_src=build/nltk_data; serve_group=serve-nltk
fi

# 2) the base image: the pinned public one if reachable, else a local Debian build
base="$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile)"
if timeout "${SMOKE_PULL_TIMEOUT:-30}" buildah "${STORAGE[@]}" pull --quiet "$base" >/dev/null 2>&1; then
  log "base: $base (pulled)"
else
  log "cannot pull $base: building a local Debian base instead"
  base="$(bash scripts/ci/local_base_image.sh)"
fi

# 3) build both targets (the API image, and the pipeline image Vertex runs)
build() {  # build CONTEXT TARGET TAG → prints the build time in seconds
  local start=$SECONDS
  buildah "${STORAGE[@]}" bud --isolation chroot --layers --quiet \
    --build-arg "PYTHON_IMAGE=$base" --build-arg MODELS_SRC=build/bundle --build-arg "NLTK_DATA_SRC=$nltk_src" \
    --build-arg "SERVE_GROUP=$serve_group" \
    --target "$2" -t "$3" -f "$1/Dockerfile" "$1" >"$work/build-$2.log" 2>&1 \
    || { tail -30 "$work/build-$2.log" >&2; die "buildah bud --target $2 failed"; }
  echo $((SECONDS - start))
}
log "building $TAG (buildah, ${STORAGE[1]} storage, chroot isolation)"
build_seconds="$(build "$CI_ROOT" runtime "$TAG")"
log "built $TAG in ${build_seconds}s"
# the pipeline image (every runtime dependency) only serves the Vertex check
if [ "${SMOKE_VERTEX:-1}" = 1 ]; then build "$CI_ROOT" pipeline "$PIPELINE_TAG" >/dev/null; fi

# 4) image facts: size, layers, where the model is
size="$(podman "${PODMAN_FLAGS[@]}" image inspect --format '{{.Size}}' "$TAG")"
log "image size: $((size / 1000000)) MB uncompressed"
check "the model bundle is the newest layer, the virtualenv a layer of its own" \
  ci_python scripts/ci/image_layers.py report "$TAG"
listed="$(sort "$work/bundle-files" | tr '\n' ' ')"
in_image="$(podman "${PODMAN_FLAGS[@]}" run --rm "${RUN_OPTS[@]}" --entrypoint ls "$TAG" -1 /app/models | sort | tr '\n' ' ')"
check "/app/models holds exactly bundle.json and the files it lists ($in_image)" test "$listed" = "$in_image"

# 5) run it as the Deployment does
key="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
mapfile -d '' run_args < <(uv_run python scripts/ci/pod_run_args.py "$TAG" "$key" "127.0.0.1:$PORT:8000" "$work/secrets")
chmod -R a+rX "$work"
# The readiness wait is on the CPU the container spends, not on a wall clock a loaded machine
# stretches: the Deployment guarantees a pod its CPU request, so within the startup probe's window
# (periodSeconds x failureThreshold) a pod is sure of window x request CPU-seconds. A container that
# burns more than that before /ready would fail its probe on a busy node: that is the failure. The
# wall cap only stops a hung run.
read -r probe_window cpu_request < <(ci_python - <<'PY'
import sys; sys.path.insert(0, "scripts/ci")
from pod_run_args import deployment_container, quantity_cpus
_, c = deployment_container()
p = c["startupProbe"]
print(p.get("periodSeconds", 10) * p.get("failureThreshold", 3) + p.get("initialDelaySeconds", 0),
      quantity_cpus(c["resources"]["requests"]["cpu"]))
PY
)
cpu_budget="$(ci_python -c "print(round($probe_window * $cpu_request, 1))")"
wall_cap="${SMOKE_READY_WALL_CAP:-1800}"
log "cold start: limits $(printf '%s ' "${run_args[@]}" | grep -o -- '--cpus [^ ]* --memory [^ ]*'), empty tmpfs /tmp;" \
  "CPU budget to /ready ${cpu_budget} s (startup window ${probe_window} s x request ${cpu_request} CPU); load $(cut -d' ' -f1-3 /proc/loadavg)"
start_ns="$(date +%s%N)"
container="$(podman "${PODMAN_FLAGS[@]}" run -d "${RUN_OPTS[@]}" --name "socialscore-smoke-$$" "${run_args[@]}")"
pid="$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.State.Pid}}' "$container")"
base_url="http://127.0.0.1:$PORT"
stats() { ci_python scripts/ci/container_stats.py "$pid"; }
field() { ci_python -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
elapsed() { ci_python -c "print(round(($(date +%s%N) - $start_ns) / 1e9, 1))"; }
health_wall="" health_cpu=""
while true; do
  if [ -z "$health_wall" ] && curl -fsS "$base_url/health" >/dev/null 2>&1; then
    health_wall="$(elapsed)"; health_cpu="$(field "$(stats)" cpu_s)"
  fi
  if curl -fsS "$base_url/ready" >/dev/null 2>&1; then break; fi
  now="$(stats 2>/dev/null || echo '{"cpu_s": 0}')"
  if [ "$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.State.Running}}' "$container")" != true ]; then
    podman "${PODMAN_FLAGS[@]}" logs "$container" | tail -30 >&2
    die "the container exited before /ready (OOM under the memory limit? $(podman "${PODMAN_FLAGS[@]}" inspect --format 'OOMKilled={{.State.OOMKilled}}' "$container"))"
  fi
  if ci_python -c "import sys; sys.exit(not $(field "$now" cpu_s) > $cpu_budget)"; then
    podman "${PODMAN_FLAGS[@]}" logs "$container" | tail -30 >&2
    die "not ready after $(field "$now" cpu_s) CPU s: over the ${cpu_budget} CPU s the startup probe allows a pod"
  fi
  if [ "$(elapsed | cut -d. -f1)" -gt "$wall_cap" ]; then
    die "not ready after ${wall_cap} s wall ($(field "$now" cpu_s) CPU s): SMOKE_READY_WALL_CAP"
  fi
  sleep 0.2
done
ready_wall="$(elapsed)"
ready_stats="$(stats)"
ready_cpu="$(field "$ready_stats" cpu_s)"
health_wall="${health_wall:-$ready_wall}" health_cpu="${health_cpu:-$ready_cpu}"
log "ready after ${ready_wall} s wall, ${ready_cpu} CPU s (/health after ${health_wall} s, ${health_cpu} CPU s); memory $ready_stats"
tmp_kib="$(podman "${PODMAN_FLAGS[@]}" exec "$container" du -sk /tmp | cut -f1)"
log "/tmp after start: ${tmp_kib} KiB (numba cache, Prometheus multiprocess files)"
check "cold start within the startup probe's CPU budget (${ready_cpu} <= ${cpu_budget} CPU s)" \
  ci_python -c "import sys; sys.exit(not $ready_cpu <= $cpu_budget)"
check "GET /health is 200" curl -fsS -o /dev/null "$base_url/health"
check "GET /ready is 200" curl -fsS -o /dev/null "$base_url/ready"
score() { curl -sS -o "$work/score.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
  -d "{\"text\": \"$text\"}" "$base_url/v1/score"; }
text="you are a genius"
check "POST /v1/score without a key is 401" test "$(score)" = 401
check "POST /v1/score with the key is 200" test "$(score -H "Authorization: Bearer $key")" = 200
log "  '$text' → $(cat "$work/score.json")"
text="you are a stupid idiot and I hate you"
score -H "Authorization: Bearer $key" >/dev/null
log "  '$text' → $(cat "$work/score.json")"
curl -fsS "$base_url/metrics" >"$work/metrics" || true
check "/metrics counts the scoring requests" grep -q '/v1/score' "$work/metrics"
uid="$(podman "${PODMAN_FLAGS[@]}" exec "$container" id -u)"
check "the server runs as uid $uid (not root)" test "$uid" != 0
check "the root filesystem is read-only" bash -c "! $PODMAN exec $container touch /app/x 2>/dev/null"

# 5b) memory at the peak of a scoring burst: full batches (SOCIALSCORE_MAX_BATCH texts) from 4
#     clients at once, the container's memory sampled meanwhile
ci_python - "$work/batch.json" <<'PY'
import json, random, sys
sys.path.insert(0, "scripts/ci")
from pod_run_args import deployment_container
env = {e["name"]: e.get("value") for e in deployment_container()[1]["env"]}
size = int(env.get("SOCIALSCORE_MAX_BATCH", 100))
rng = random.Random(7)
words = ("you are a genius thanks for the edit idiot stupid moron great point I agree this section "
         "call me at 555 0100 see example.org hate love article source welcome").split()
texts = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 60))) for _ in range(size)]
json.dump({"texts": texts}, open(sys.argv[1], "w"))
PY
peak="$ready_stats"
( for _ in 1 2 3 4; do
    for _ in 1 2 3 4 5; do
      curl -sS -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $key" \
        --data-binary "@$work/batch.json" "$base_url/v1/score/batch" || true
    done &
  done; wait ) &
burst=$!
while kill -0 "$burst" 2>/dev/null; do
  sample="$(stats 2>/dev/null)" || break
  if ci_python -c "import json, sys; sys.exit(not json.loads(sys.argv[1])['pss_mib'] > json.loads(sys.argv[2])['pss_mib'])" "$sample" "$peak"; then peak="$sample"; fi
  sleep 0.2
done
burst_cpu="$(field "$(stats)" cpu_s)"
log "scoring burst (20 batches of $(ci_python -c "import json; print(len(json.load(open('$work/batch.json'))['texts']))") texts, 4 clients): peak memory $peak"
check "the container survived the burst under its memory limit" \
  test "$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.State.Running}}' "$container")" = true

# 6) a clean SIGTERM: uvicorn drains and exits 0 well inside terminationGracePeriodSeconds
start_ns="$(date +%s%N)"
podman "${PODMAN_FLAGS[@]}" kill --signal TERM "$container" >/dev/null
exit_code="$(podman "${PODMAN_FLAGS[@]}" wait "$container")"
stop_ms=$((($(date +%s%N) - start_ns) / 1000000))
grace="$(uv_run python -c 'import sys; sys.path.insert(0, "scripts/ci"); from pod_run_args import deployment_container as d; print(d()[0]["terminationGracePeriodSeconds"])')"
check "SIGTERM: exit code $exit_code after ${stop_ms} ms (grace period ${grace} s)" \
  test "$exit_code" = 0 -a "$stop_ms" -lt $((grace * 1000))
podman "${PODMAN_FLAGS[@]}" logs "$container" >"$work/server.log" 2>&1
podman "${PODMAN_FLAGS[@]}" rm "$container" >/dev/null && container=""

# 7) a code-only change: which layers are new, and how big
if [ "${SMOKE_REBUILD:-1}" = 1 ]; then
  ctx="$work/context"
  mkdir -p "$ctx/build" "$ctx/deploy"
  cp -R Dockerfile .dockerignore pyproject.toml uv.lock README.md src "$ctx/"
  cp -R deploy/docker "$ctx/deploy/"; cp -R build/bundle "$ctx/build/"
  if [ -d build/nltk_data ]; then cp -R build/nltk_data "$ctx/build/"; fi
  printf '\n# code-only change for the image smoke test\n' >>"$ctx/src/socialscore/__init__.py"
  rebuild_seconds="$(build "$ctx" runtime "$TAG-code-change")"
  log "code-only change: rebuilt in ${rebuild_seconds}s"
  check "a code-only change ships new layers of MB, the dependency layer reused" \
    ci_python scripts/ci/image_layers.py diff "$TAG" "$TAG-code-change"
  podman "${PODMAN_FLAGS[@]}" rmi "$TAG-code-change" >/dev/null
fi

# 8) the Vertex components in the pipeline image, against a root-owned artifact volume
if [ "${SMOKE_VERTEX:-1}" = 1 ]; then
  check "Vertex components run in $PIPELINE_TAG on a root-owned volume" \
    uv_run python scripts/ci/vertex_image_check.py "$PIPELINE_TAG" --expect success
  check "…and the non-root API image cannot (the check can fail)" \
    uv_run python scripts/ci/vertex_image_check.py "$TAG" --expect failure
fi

report="${SMOKE_REPORT:-$CI_ROOT/build/image-smoke.json}"
mkdir -p "$(dirname "$report")"
ci_python - "$report" <<PY
import json, subprocess, sys, datetime
layers = json.loads(subprocess.run([*"$PODMAN".split(), "history", "--no-trunc", "--format", "json", "$TAG"],
                                   capture_output=True, text=True, check=True).stdout)
json.dump({
    "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "image": "$TAG", "size_mb": round($size / 1e6, 1), "build_s": $build_seconds,
    "layers": [{"mb": round(int(l.get("size") or l.get("Size") or 0) / 1e6, 1),
                "created_by": " ".join(str(l.get("createdBy") or l.get("CreatedBy") or "").split())[:160]}
               for l in layers if int(l.get("size") or l.get("Size") or 0) > 0],
    "limits": "$(printf '%s ' "${run_args[@]}" | grep -o -- '--cpus [^ ]* --memory [^ ]*')",
    "load_average": "$(cut -d' ' -f1-3 /proc/loadavg)",
    "health": {"wall_s": $health_wall, "cpu_s": $health_cpu},
    "ready": {"wall_s": $ready_wall, "cpu_s": $ready_cpu, "cpu_budget_s": $cpu_budget, "memory": $ready_stats},
    "tmp_kib_after_start": $tmp_kib,
    "burst": {"peak_memory": $peak, "cpu_s_after": $burst_cpu},
    "sigterm": {"exit": $exit_code, "ms": $stop_ms},
}, open(sys.argv[1], "w"), indent=2)
PY
log "figures written to $report"
log "summary: image $TAG $((size / 1000000)) MB, build ${build_seconds}s, /ready ${ready_wall} s wall ${ready_cpu} CPU s, peak $(field "$peak" pss_mib) MiB PSS, SIGTERM exit $exit_code in ${stop_ms} ms"
[ "$failures" -eq 0 ] || die "$failures check(s) failed"
log "every check passed"
