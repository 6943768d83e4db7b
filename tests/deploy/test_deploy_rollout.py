"""deploy_gke.sh against a fake kubectl (and gcloud) on PATH: a good rollout passes and shows the pods;
a failed, timed-out or unhealthy one is undone to the revision that served before and fails the step
with the reason; the build cannot end green with a broken rollout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ci" / "deploy_gke.sh"
DIGEST_REF = "europe-west1-docker.pkg.dev/p/r/social-score-api@sha256:" + "ab" * 32

FAKE_KUBECTL = r"""#!/usr/bin/env bash
# records every call; behaves as FAKE_ROLLOUT (ok|fail|timeout), FAKE_HEALTH (ok|fail), FAKE_PREVIOUS say
echo "kubectl $*" >>"$FAKE_LOG"
args=" $* "
case "$args" in
  *" rollout status "*)
    n=$(grep -c "rollout status" "$FAKE_LOG")
    if [ "$n" -gt 1 ] || [ "$FAKE_ROLLOUT" = ok ]; then echo 'deployment "social-score-api" successfully rolled out'; exit 0; fi
    if [ "$FAKE_ROLLOUT" = timeout ]; then echo "error: timed out waiting for the condition" >&2; exit 1; fi
    echo 'error: deployment "social-score-api" exceeded its progress deadline' >&2; exit 1 ;;
  *" rollout undo "*) echo "deployment.apps/social-score-api rolled back"; exit 0 ;;
  *" get deployment/"*) printf '%s' "$FAKE_PREVIOUS"; exit 0 ;;
  *" get --request-timeout="*" --raw "*)
    if [ "$FAKE_HEALTH" = fail ]; then echo "Error from server (ServiceUnavailable): the server is currently unable to handle the request" >&2; exit 1; fi
    echo '{"status":"ok"}'; exit 0 ;;
  *" get pods "*) echo "NAME READY STATUS"; echo "social-score-api-abc 1/1 Running"; exit 0 ;;
  *) exit 0 ;;
esac
"""


def run_deploy(tmp_path: Path, rollout: str = "ok", health: str = "ok", previous: str = "7",
               image_ref: str = DIGEST_REF) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    (bin_dir / "gcloud").write_text('#!/usr/bin/env bash\necho "gcloud $*" >>"$FAKE_LOG"\n')
    for tool in ("kubectl", "gcloud"):
        (bin_dir / tool).chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(log), "FAKE_ROLLOUT": rollout, "FAKE_HEALTH": health, "FAKE_PREVIOUS": previous,
        "CLUSTER": "c", "LOCATION": "europe-west1-b", "PROJECT": "p", "ROLLOUT_TIMEOUT": "5s",
        "IMAGE_REF": image_ref, "CI_CACHE_DIR": str(tmp_path / "ci-cache"),
        "K8S_OVERLAY_DIR": str(tmp_path / "overlay"),
    }
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    return result, log.read_text()


def test_a_good_rollout_passes_checks_health_and_shows_the_pods(tmp_path: Path) -> None:
    result, calls = run_deploy(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rollout status deployment/social-score-api --timeout=5s" in calls
    assert "rollout undo" not in calls
    assert "/services/social-score-api:http/proxy/health" in calls and "proxy/ready" in calls
    assert "get pods -l app=social-score-api" in calls and "social-score-api-abc" in result.stdout
    assert "sha256:" + "ab" * 32 in (tmp_path / "overlay" / "kustomization.yaml").read_text()


@pytest.mark.parametrize(("rollout", "reason"), [
    ("fail", "exceeded its progress deadline"),
    ("timeout", "did not finish within 5s"),
])
def test_a_failed_or_timed_out_rollout_is_undone_and_fails(tmp_path: Path, rollout: str, reason: str) -> None:
    result, calls = run_deploy(tmp_path, rollout=rollout)
    assert result.returncode != 0
    assert "rollout undo deployment/social-score-api --to-revision=7" in calls
    assert "ROLLED BACK to revision 7" in result.stderr and reason in result.stderr
    assert "get pods" in calls  # the pods are shown with the failure
    assert "proxy/health" not in calls  # no health check of a rollout that never finished


def test_an_unhealthy_api_after_the_rollout_is_undone(tmp_path: Path) -> None:
    result, calls = run_deploy(tmp_path, health="fail")
    assert result.returncode != 0
    assert "rollout undo deployment/social-score-api --to-revision=7" in calls
    assert "GET /health through the Service failed" in result.stderr


def test_a_failed_first_rollout_fails_without_an_undo(tmp_path: Path) -> None:
    result, calls = run_deploy(tmp_path, rollout="fail", previous="")
    assert result.returncode != 0
    assert "rollout undo" not in calls
    assert "first rollout" in result.stderr


def test_only_a_digest_is_deployed(tmp_path: Path) -> None:
    result, calls = run_deploy(tmp_path, image_ref="europe-west1-docker.pkg.dev/p/r/social-score-api:latest")
    assert result.returncode != 0 and "deploy by digest only" in result.stderr
    assert "apply" not in calls
