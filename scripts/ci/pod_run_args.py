"""The `podman run` arguments that reproduce the Deployment's container: its env, user, read-only root,
dropped capabilities, CPU and memory limits, emptyDir mounts (as tmpfs) and command — from the
rendered manifests.

    pod_run_args.py IMAGE API_KEY PUBLISH WORKDIR   # NUL-separated `podman run` args, image + command last

Secret volumes become read-only bind mounts of files under WORKDIR holding API_KEY (a secretKeyRef
env var gets it directly); PUBLISH is podman's -p value (e.g. 127.0.0.1:18080:8000).
Anything in the pod spec this cannot reproduce is an error, so the smoke test never runs a laxer pod.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from k8s_overlay import render  # noqa: E402


def deployment_container() -> tuple[dict[str, Any], dict[str, Any]]:
    (deployment,) = [o for o in render() if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return pod, container


def env_of(container: dict[str, Any], api_key: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            env[entry["name"]] = api_key
        else:
            raise SystemExit(f"env {entry['name']}: only values and secretKeyRef are reproduced")
    return env


def secret_mount(volume: dict[str, Any], api_key: str, workdir: Path) -> Path:
    """A directory holding the Secret's files (each listed item, API_KEY as its content)."""
    directory = workdir / volume["name"]
    directory.mkdir(parents=True, exist_ok=True)
    for item in volume["secret"].get("items") or [{"path": "api-keys"}]:
        (directory / item["path"]).write_text(api_key, encoding="utf-8")
        (directory / item["path"]).chmod(0o444)
    return directory


def quantity_cpus(value: str | int | float) -> str:
    """A Kubernetes CPU quantity ("1", "1500m") as podman's --cpus ("1", "1.5")."""
    text = str(value)
    cores = int(text[:-1]) / 1000 if text.endswith("m") else float(text)
    return f"{cores:g}"


def quantity_mib(value: str | int) -> int:
    """A Kubernetes memory quantity in MiB ("1536Mi", "2Gi", "1G", bytes)."""
    text = str(value)
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1000 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return round(float(text[: -len(suffix)]) * factor)
    if text.isdigit():
        return round(int(text) / 2**20)
    raise SystemExit(f"memory quantity {text!r}: not reproduced")


def limit_args(container: dict[str, Any]) -> list[str]:
    """--cpus/--memory from the container's limits (no swap: a Kubernetes node runs without)."""
    limits = container.get("resources", {}).get("limits", {})
    if "cpu" not in limits or "memory" not in limits:
        raise SystemExit("the container sets no CPU or memory limit: the smoke test would run unbounded")
    memory = f"{quantity_mib(limits['memory'])}m"
    return ["--cpus", quantity_cpus(limits["cpu"]), "--memory", memory, "--memory-swap", memory]


def run_args(image: str, api_key: str, publish: str, workdir: Path) -> list[str]:
    pod, container = deployment_container()
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    env = env_of(container, api_key)
    args = ["--publish", publish, *limit_args(container)]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    if user is None:
        raise SystemExit("the pod sets no runAsUser: nothing to check runAsNonRoot against")
    args += ["--user", f"{user}:{group}" if group is not None else str(user)]
    if pod_sc.get("fsGroup") is not None:
        args += ["--group-add", str(pod_sc["fsGroup"])]
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    for cap in sc.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", cap]
    for cap in sc.get("capabilities", {}).get("add", []):
        args += ["--cap-add", cap]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" in volume:
            source = secret_mount(volume, api_key, workdir)
            args += ["--volume", f"{source}:{mount['mountPath']}:ro"]
            continue
        if "emptyDir" not in volume:
            raise SystemExit(f"volume {mount['name']}: only emptyDir and secret are reproduced")
        size = volume["emptyDir"].get("sizeLimit")
        size_opt = f",size={size.replace('Mi', 'm').replace('Gi', 'g')}" if size else ""
        args += ["--tmpfs", f"{mount['mountPath']}:rw,mode=1777{size_opt}"]
    command = [
        re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), a)
        for a in container.get("command", []) + container.get("args", [])
    ]
    entry = ["--entrypoint", command[0]] if command else []
    return entry + args + [image] + command[1:]


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    image, key, publish, work = sys.argv[1:]
    sys.stdout.write("\0".join(run_args(image, key, publish, Path(work))) + "\0")
