"""The image helpers the smoke test and the builds use: the staged bundle and the pod's podman args."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from k8s_helpers import ROOT, by_kind, rendered

CI = ROOT / "scripts" / "ci"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


def _bundle(models: Path, files: dict[str, bytes]) -> None:
    models.mkdir(parents=True)
    for name, data in files.items():
        (models / name).write_bytes(data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    (models / "bundle.json").write_text(json.dumps({"files": digests}))


def test_stage_bundle_copies_what_bundle_json_lists_but_the_joblib_export(tmp_path: Path) -> None:
    """The joblib export stays a training artifact (and in the CI model cache): not in the image."""
    models = tmp_path / "models"
    _bundle(models, {"model.joblib": b"m", "vectorizer.joblib": b"v", "weights.npz": b"w", "pipeline.json": b"{}"})
    (models / "nb_logistic_prod.pkl").write_bytes(b"training only")
    (models / "registry").mkdir()
    (models / "registry" / "index.json").write_text("{}")
    result = _run(str(CI / "stage_bundle.py"), str(models), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    staged = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert staged == ["bundle.json", "pipeline.json", "weights.npz"]
    assert result.stdout.split() == ["pipeline.json", "weights.npz", "bundle.json"]
    manifest = json.loads((tmp_path / "out" / "bundle.json").read_text())
    assert sorted(manifest["files"]) == ["pipeline.json", "weights.npz"]  # what the image holds
    assert manifest["not_shipped"] == ["model.joblib", "vectorizer.joblib"]
    assert (models / "model.joblib").exists()  # the training artifact itself is untouched


def test_stage_bundle_refuses_a_file_that_does_not_match(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _bundle(models, {"weights.npz": b"m"})
    (models / "weights.npz").write_bytes(b"tampered")
    result = _run(str(CI / "stage_bundle.py"), str(models), str(tmp_path / "out"))
    assert result.returncode != 0 and "does not match" in result.stderr


@pytest.fixture(scope="module")
def pod_args(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    work = tmp_path_factory.mktemp("pod")
    result = _run(str(CI / "pod_run_args.py"), "img:1", "k3y", "127.0.0.1:9:8000", str(work))
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\0").split("\0"), work


def test_podman_args_reproduce_the_pod_hardening(pod_args: tuple[list[str], Path]) -> None:
    args, work = pod_args
    pod = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    pairs = list(zip(args, args[1:]))
    user = f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    assert ("--user", user) in pairs and user != "0:0"
    assert "--read-only" in args and ("--cap-drop", "ALL") in pairs
    assert ("--security-opt", "no-new-privileges") in pairs
    assert any(a == "--tmpfs" and b.startswith("/tmp:") for a, b in pairs)
    env = dict(b.split("=", 1) for a, b in pairs if a == "--env")
    assert env == {e["name"]: e["value"] for e in container["env"]}
    # the Secret's file, mounted read-only where the Deployment mounts it, holds the key
    (mount,) = [b for a, b in pairs if a == "--volume"]
    source, target, mode = mount.split(":")
    assert mode == "ro" and env["SOCIALSCORE_API_KEYS_FILE"].startswith(target + "/")
    assert (Path(source) / "api-keys").read_text() == "k3y" and Path(source).is_relative_to(work)
    # image, then the Deployment's command (entrypoint + the rest)
    image_at = args.index("img:1")
    assert ("--entrypoint", container["command"][0]) in pairs
    assert args[image_at + 1 :] == container["command"][1:]


def test_podman_args_apply_the_deployments_limits(pod_args: tuple[list[str], Path]) -> None:
    """The smoke test's cold start is measured under the Deployment's CPU and memory limits, no swap."""
    args, _ = pod_args
    limits = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    pairs = dict(zip(args, args[1:]))
    sys.path.insert(0, str(CI))
    from pod_run_args import quantity_cpus, quantity_mib

    assert pairs["--cpus"] == quantity_cpus(limits["cpu"])
    assert pairs["--memory"] == pairs["--memory-swap"] == f"{quantity_mib(limits['memory'])}m"
    assert (quantity_cpus("1500m"), quantity_cpus(2), quantity_mib("1Gi"), quantity_mib("768Mi")) == ("1.5", "2", 1024, 768)


def test_container_stats_counts_the_cpu_of_the_whole_process_tree() -> None:
    """A parent that sleeps and a child that burns ~1 CPU s: the tree's figure holds the child's CPU."""
    burner = ("import os, time, subprocess, sys\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
              "while time.process_time() - t < 1.0: pass\\ntime.sleep(30)'])\n"
              "time.sleep(30)\n")
    parent = subprocess.Popen([sys.executable, "-c", burner])
    try:
        import time

        deadline = time.monotonic() + 60
        while True:
            result = _run(str(CI / "container_stats.py"), str(parent.pid))
            stats = json.loads(result.stdout)
            if stats["cpu_s"] >= 1.0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert stats["cpu_s"] >= 1.0 and stats["processes"] == 2 and stats["rss_mib"] > 1
    finally:
        for proc in subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True, text=True).stdout.split():
            subprocess.run(["kill", proc])
        parent.kill()
        parent.wait()
