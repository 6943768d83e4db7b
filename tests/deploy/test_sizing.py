"""The Deployment's requests, limits, workers and startup probe are the ones the image smoke test's
measurement gives (scripts/ci/sizing.py), and they hang together with the rollout's deadlines."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SIZING = ROOT / "scripts" / "ci" / "sizing.py"


def _sizing():
    spec = importlib.util.spec_from_file_location("ci_sizing", SIZING)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_deployment_states_what_the_measurement_gives() -> None:
    result = subprocess.run([sys.executable, str(SIZING), "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_old_hand_picked_sizing_is_caught() -> None:
    """512Mi request / 1536Mi limit / 250m / a 120 s probe: what the Deployment said before the measurement."""
    sizing = _sizing()
    stated, tmp = sizing.in_deployment()
    derived, _ = sizing.derive(json.loads(sizing.MEASURED.read_text()), tmp)
    old = copy.deepcopy(stated)
    old["requests"].update(cpu="250m", memory="512Mi")
    old["limits"]["memory"] = "1536Mi"
    old["startupProbe"] = {"periodSeconds": 2, "failureThreshold": 60}
    assert old != derived and stated == derived


def test_the_derivation_follows_the_figures() -> None:
    sizing = _sizing()
    base = {"when": "t", "limits": "--cpus 1 --memory 1536m", "load_average": "1 1 1", "ready_wall_s": 5,
            "ready_pss_mib": 300, "tmp_kib_after_start": 100}
    fast, _ = sizing.derive({**base, "ready_cpu_s": 3.0, "peak_pss_mib": 400}, 64)
    slow, _ = sizing.derive({**base, "ready_cpu_s": 50.0, "peak_pss_mib": 1000}, 64)
    assert fast["requests"]["cpu"] == "250m" and fast["startupProbe"]["failureThreshold"] == 4  # 18 s
    assert fast["limits"]["memory"] == "512Mi"  # 400 x 1.25 = 500 → 512
    assert slow["requests"]["cpu"] == "750m" and slow["limits"]["memory"] == "1280Mi"


def test_record_keeps_the_figures_of_a_smoke_report() -> None:
    report = {"when": "2026-12-07T18:43:29+00:00", "limits": "--cpus 1 --memory 1536m", "load_average": "2 2 2",
              "size_mb": 811.4, "ready": {"cpu_s": 26.59, "wall_s": 125.9, "memory": {"pss_mib": 542.2}},
              "burst": {"peak_memory": {"pss_mib": 594.3}}, "tmp_kib_after_start": 2712}
    kept = _sizing().record(report)
    assert kept["ready_cpu_s"] == 26.59 and kept["peak_pss_mib"] == 594.3 and kept["image_size_mb"] == 811.4


def test_the_rollout_deadlines_cover_the_startup_window() -> None:
    deployment = yaml.safe_load((ROOT / "deploy/k8s/deployment.yaml").read_text())
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    window = probe["periodSeconds"] * probe["failureThreshold"]
    assert deployment["spec"]["progressDeadlineSeconds"] >= 2 * window
    hpa = yaml.safe_load((ROOT / "deploy/k8s/hpa.yaml").read_text())
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    (deploy,) = [s for s in build["steps"] if s["id"] == "deploy-gke"]
    timeout = int(dict(e.split("=", 1) for e in deploy["env"])["ROLLOUT_TIMEOUT"].split()[0].rstrip("s"))
    max_surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    assert timeout >= hpa["spec"]["maxReplicas"] / max_surge * window
