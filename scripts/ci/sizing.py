"""The Deployment's requests, limits, workers and probe budgets, derived from the image smoke test's
measured cold start and memory (docs/deployment.md, "Sizing from measurement").

    sizing.py record REPORT.json   # keep a run's figures (scripts/ci/image_smoke.sh writes REPORT) in
                                   # deploy/k8s/measured.json
    sizing.py show                 # the derived values, with the arithmetic
    sizing.py check                # exit 1 when deploy/k8s/deployment.yaml differs from them

The rules (each a policy input, measured figures in):
- workers: one uvicorn worker per CPU of the limit (scoring is CPU-bound: a second worker on one CPU
  adds no throughput and doubles memory and start-up CPU).
- memory: limit = request = the peak PSS of the scoring burst x MEMORY_MARGIN, rounded up to 64 MiB
  (request = limit: the pod is never the first evicted, and it never needs more than it measured).
- CPU request: the smallest of CPU_STEPS that lets a pod start within MAX_STARTUP_WINDOW_S on a busy
  node, where it is only sure of its request: STARTUP_MARGIN x cold-start CPU s / request <= window.
- startup probe: periodSeconds x failureThreshold >= STARTUP_MARGIN x cold-start CPU s / CPU request.
- ephemeral storage: request = the /tmp emptyDir sizeLimit + LOG_ALLOWANCE_MI; limit = 2 x request;
  the sizeLimit must hold TMP_MARGIN x the measured /tmp use.
Standard library + PyYAML (the dev environment).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ROOT / "deploy" / "k8s" / "measured.json"
DEPLOYMENT = ROOT / "deploy" / "k8s" / "deployment.yaml"

CPU_LIMIT = 1.0
MEMORY_MARGIN = 1.25
STARTUP_MARGIN = 1.5
MAX_STARTUP_WINDOW_S = 120
CPU_STEPS = (0.25, 0.5, 0.75, 1.0)
PROBE_PERIOD_S = 5
LOG_ALLOWANCE_MI = 64
TMP_MARGIN = 10


def record(report: dict[str, Any]) -> dict[str, Any]:
    """The figures sizing needs, from an image_smoke.sh report."""
    return {
        "when": report["when"],
        "limits": report["limits"],
        "load_average": report["load_average"],
        "image_size_mb": report["size_mb"],
        "ready_cpu_s": report["ready"]["cpu_s"],
        "ready_wall_s": report["ready"]["wall_s"],
        "ready_pss_mib": report["ready"]["memory"]["pss_mib"],
        "peak_pss_mib": report["burst"]["peak_memory"]["pss_mib"],
        "tmp_kib_after_start": report["tmp_kib_after_start"],
    }


def mi(value: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return round(float(value[:-2]) * units[value[-2:]])


def cpu(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{round(value * 1000)}m"


def derive(measured: dict[str, Any], tmp_size_limit_mi: int) -> tuple[dict[str, Any], list[str]]:
    """(the values, the arithmetic as lines)."""
    start_cpu = measured["ready_cpu_s"]
    memory = math.ceil(measured["peak_pss_mib"] * MEMORY_MARGIN / 64) * 64
    request = next((step for step in CPU_STEPS if STARTUP_MARGIN * start_cpu / step <= MAX_STARTUP_WINDOW_S), None)
    if request is None:
        raise SystemExit(f"sizing: a {start_cpu} CPU s start cannot fit {MAX_STARTUP_WINDOW_S} s even at 1 CPU")
    window = STARTUP_MARGIN * start_cpu / request
    failures = math.ceil(window / PROBE_PERIOD_S)
    ephemeral = tmp_size_limit_mi + LOG_ALLOWANCE_MI
    tmp_needed_mi = measured["tmp_kib_after_start"] / 1024 * TMP_MARGIN
    if tmp_needed_mi > tmp_size_limit_mi:
        raise SystemExit(f"sizing: /tmp sizeLimit {tmp_size_limit_mi}Mi < {TMP_MARGIN} x the measured use")
    values = {
        "workers": str(int(CPU_LIMIT)),
        "requests": {"cpu": cpu(request), "memory": f"{memory}Mi", "ephemeral-storage": f"{ephemeral}Mi"},
        "limits": {"cpu": cpu(CPU_LIMIT), "memory": f"{memory}Mi", "ephemeral-storage": f"{2 * ephemeral}Mi"},
        "startupProbe": {"periodSeconds": PROBE_PERIOD_S, "failureThreshold": failures},
    }
    why = [
        f"measured ({measured['when']}, {measured['limits']}, load {measured['load_average']}): "
        f"/ready after {start_cpu} CPU s ({measured['ready_wall_s']} s wall), "
        f"{measured['ready_pss_mib']} MiB after start, peak {measured['peak_pss_mib']} MiB in the burst, "
        f"/tmp {measured['tmp_kib_after_start']} KiB",
        f"workers = {int(CPU_LIMIT)} per CPU of the {cpu(CPU_LIMIT)} limit",
        f"memory = ceil64({measured['peak_pss_mib']} x {MEMORY_MARGIN}) = {memory}Mi (request = limit)",
        f"cpu request = smallest of {list(CPU_STEPS)} with {STARTUP_MARGIN} x {start_cpu} / request <= "
        f"{MAX_STARTUP_WINDOW_S} s: {cpu(request)} ({window:.0f} s)",
        f"startup probe = ceil({window:.1f} s / {PROBE_PERIOD_S} s) = {failures} failures x {PROBE_PERIOD_S} s",
        f"ephemeral-storage = /tmp sizeLimit {tmp_size_limit_mi}Mi (>= {TMP_MARGIN} x {tmp_needed_mi / TMP_MARGIN:.1f} MiB) "
        f"+ {LOG_ALLOWANCE_MI}Mi logs = {ephemeral}Mi request, {2 * ephemeral}Mi limit",
    ]
    return values, why


def in_deployment(path: Path = DEPLOYMENT) -> tuple[dict[str, Any], int]:
    """The same values as the Deployment states them, and its /tmp sizeLimit in MiB."""
    import yaml

    pod = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    probe = container["startupProbe"]
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")["emptyDir"]["sizeLimit"]
    resources = {part: {k: str(v) for k, v in container["resources"][part].items()} for part in ("requests", "limits")}
    return {
        "workers": env["SOCIALSCORE_WORKERS"],
        **resources,
        "startupProbe": {"periodSeconds": probe["periodSeconds"], "failureThreshold": probe["failureThreshold"]},
    }, mi(tmp)


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"] and len(argv) == 2:
        MEASURED.write_text(json.dumps(record(json.loads(Path(argv[1]).read_text())), indent=2) + "\n")
        print(f"wrote {MEASURED}")
        return 0
    if argv not in (["show"], ["check"]):
        sys.exit(__doc__)
    stated, tmp_limit = in_deployment()
    derived, why = derive(json.loads(MEASURED.read_text()), tmp_limit)
    print("\n".join(why))
    if argv == ["check"] and stated != derived:
        print(f"deploy/k8s/deployment.yaml states {json.dumps(stated)}\nthe measurement gives {json.dumps(derived)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
