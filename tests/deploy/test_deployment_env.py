"""Start the API exactly as the Deployment would — its command and env (plus the image's ENV) — and
check that the pod would come up: /health, /ready and an authorised /v1/score.

The only changes to that environment: paths inside the image map to temporary directories, the
Secret's value is a test key, and the bind address/port become a free loopback port.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from k8s_helpers import ROOT, by_kind, rendered

TEST_KEY = "deployment-env-test-key-0123456789"

# How long to wait for /ready is counted in CPU seconds of the server's process tree, which a loaded
# machine does not inflate (wall time it does: a 90 s wall deadline failed under load). Measured on
# 2026-12-07: the app and its two workers were ready after STARTUP_CPU_MEASURED CPU-seconds; the bound
# is ten times that. A tree that stops using CPU without becoming ready is stuck: STALL_SECONDS.
STARTUP_CPU_MEASURED = 12.0  # the higher of two runs (9.9, 11.9) on a loaded 2-core machine
STARTUP_CPU_BOUND = 10 * STARTUP_CPU_MEASURED
STALL_SECONDS = 60


def _tiny_bundle(models_dir: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "tiny_bundle_for_deploy", ROOT / "tests" / "api" / "tiny_bundle.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_bundle(models_dir)


def _image_env() -> dict[str, str]:
    """The runtime image's ENV, through the stages it is built FROM (what every container gets)."""
    from test_dockerfile import image_instructions  # same directory

    env: dict[str, str] = {}
    for keyword, rest in image_instructions((ROOT / "Dockerfile").read_text(), "runtime"):
        if keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_cpu_seconds(process: psutil.Process) -> float:
    """user + system CPU seconds of ``process`` and its live children."""
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # a worker that just exited
            continue
        total += times.user + times.system
    return total


def _wait_ready(url: str, process: subprocess.Popen) -> tuple[httpx.Response | None, float]:
    """Poll ``url`` until 200, the server exits, uses STARTUP_CPU_BOUND CPU-seconds, or stalls."""
    tree = psutil.Process(process.pid)
    ready, cpu, last_cpu, last_progress = None, 0.0, -1.0, time.monotonic()
    while process.poll() is None and cpu < STARTUP_CPU_BOUND:
        try:
            ready = httpx.get(url, timeout=2)
            if ready.status_code == 200:
                break
        except httpx.TransportError:
            pass
        cpu = _tree_cpu_seconds(tree)
        if cpu > last_cpu + 0.05:
            last_cpu, last_progress = cpu, time.monotonic()
        elif time.monotonic() - last_progress > STALL_SECONDS:
            break
        time.sleep(0.3)
    return ready, _tree_cpu_seconds(tree) if process.poll() is None else cpu


def _expand(arg: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion in command/args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), arg)


@pytest.mark.slow  # uvicorn importing the scoring stack
def test_the_pod_comes_up_with_the_deployment_environment(tmp_path: Path) -> None:
    container = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    declared = {entry["name"]: entry["value"] for entry in container["env"]}  # no secret in env
    # the container port the probes use is the port the app is told to bind
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports[container["readinessProbe"]["httpGet"]["port"]] == int(
        declared["SOCIALSCORE_PORT"]
    )

    (secret_mount,) = [m for m in container["volumeMounts"] if m["name"] == "api-keys"]
    image_root = {
        "/app/models": tmp_path / "app" / "models",
        "/opt/nltk_data": tmp_path / "opt" / "nltk_data",
        "/tmp": tmp_path / "tmp",
        secret_mount["mountPath"]: tmp_path / "secret",
    }
    for path in image_root.values():
        path.mkdir(parents=True)
    _tiny_bundle(image_root["/app/models"])
    # the Secret's key as the kubelet mounts it: one file per item
    (image_root[secret_mount["mountPath"]] / "api-keys").write_text(TEST_KEY)

    def relocate(value: str) -> str:
        for inside, outside in image_root.items():
            if value == inside or value.startswith(inside + "/"):
                return str(outside) + value[len(inside) :]
        return value

    env = {**_image_env(), **declared}
    env = {k: relocate(v) for k, v in env.items()}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    port = _free_port()
    env["SOCIALSCORE_HOST"], env["SOCIALSCORE_PORT"] = "127.0.0.1", str(port)
    assert env["SOCIALSCORE_ENV"] == "production"
    command = [_expand(a, env) for a in container["command"] + container.get("args", [])]
    assert not any(re.search(r"\$\([A-Za-z_][A-Za-z0-9_]*\)", a) for a in command), command

    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path / "tmp", stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready, cpu = _wait_ready(f"{base}/ready", process)
        print(f"ready after {cpu:.1f} CPU-seconds of the server's process tree")
        assert process.poll() is None, f"the app exited ({process.returncode}):\n{log.read_text()}"
        assert ready is not None and ready.status_code == 200, f"{cpu:.1f} CPU s:\n{log.read_text()}"
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        scored = httpx.post(
            f"{base}/v1/score",
            json={"text": "you are an idiot"},
            headers={"Authorization": f"Bearer {TEST_KEY}"},
            timeout=10,
        )
        assert scored.status_code == 200, scored.text
        assert 0 <= scored.json()["social_score"] <= 100
        refused = httpx.post(f"{base}/v1/score", json={"text": "hello"}, timeout=10)
        assert refused.status_code == 401
        # /metrics serves; several workers would share a multiprocess directory under the writable /tmp
        # (the Deployment runs one per CPU of its limit: docs/deployment.md, "Sizing from measurement")
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 200
        if int(env["SOCIALSCORE_WORKERS"]) >= 2:
            assert any(image_root["/tmp"].glob("socialscore-metrics-*"))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # A graceful drain either way. One worker is uvicorn itself, which re-raises SIGTERM once it has
    # shut down (exit -15 here); as the container's PID 1 that re-raise is ignored and it exits 0
    # (image_smoke.sh measures that in the image). Several workers: the supervisor exits 0.
    assert "Application shutdown complete" in log.read_text(), log.read_text()
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()


@pytest.mark.slow
def test_production_refuses_to_start_without_the_secret(tmp_path: Path) -> None:
    """If the Secret were empty the pod must crash loudly, not serve an open API."""
    container = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    (tmp_path / "api-keys").write_text("")
    env["SOCIALSCORE_API_KEYS_FILE"] = str(tmp_path / "api-keys")
    env["SOCIALSCORE_MODELS_DIR"] = str(_tiny_bundle(tmp_path / "models"))
    env["SOCIALSCORE_PORT"], env["SOCIALSCORE_HOST"] = str(_free_port()), "127.0.0.1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    command = [_expand(a, env) for a in container["command"]]
    result = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SOCIALSCORE_API_KEYS" in result.stderr


def test_a_missing_secret_file_fails_the_start(tmp_path: Path) -> None:
    container = by_kind(rendered(), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env["SOCIALSCORE_API_KEYS_FILE"] = str(tmp_path / "absent")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        container["command"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "absent" in result.stderr
