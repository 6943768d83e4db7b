"""Prod runs, in-memory vocabulary path vs hashing + out-of-core path: wall, CPU, peak RSS, held-out AUC.

    uv run python benchmarks/scale_data.py --rows 100000 --out /tmp/scale_100k.csv
    uv run python benchmarks/bench_scale_paths.py --data /tmp/scale_100k.csv --timeout 1200

Each variant runs ``socialscore run --mode prod`` (all seven steps, SQLite) in a fresh temporary
project under ``/usr/bin/time``, with ``bench_pipeline.timed_run`` sampling the RSS summed over the
run and its worker processes every 0.2 s. The held-out ROC AUC is the evaluate step's, the trainer
the train step's ``trainer`` fact. The peak summed RSS is also attributed to the step that was running
(``step X running`` in the log). The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import machine, timed_run, tree_rss

VARIANTS = {
    "in-memory, vocabulary": ["features.vectorizer=vocabulary", "train.trainer=in_memory"],
    "out-of-core, hashing": ["features.vectorizer=hashing", "train.trainer=out_of_core"],
    "defaults (auto)": [],
}


class StepPeaks(threading.Thread):
    """Peak RSS summed over the run's processes (found by its project path), per running step."""

    def __init__(self, project: Path, log: Path, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.project, self.log, self.every = str(project), log, every
        self.peaks: dict[str, int] = {}
        self.stop = threading.Event()

    def _roots(self) -> list:  # type: ignore[type-arg]
        import psutil

        found = []
        for proc in psutil.process_iter(["cmdline"]):
            cmd = proc.info.get("cmdline") or []
            if self.project in cmd and "socialscore.terminal.app" in cmd and "/usr/bin/time" not in cmd:
                found.append(proc)
        return found

    def run(self) -> None:
        step = "startup"
        while not self.stop.wait(self.every):
            if self.log.exists():
                running = re.findall(r"step (\w+) (running|done)", self.log.read_text(errors="replace"))
                step = running[-1][0] if running and running[-1][1] == "running" else step if not running else f"after {running[-1][0]}"
            total = sum(tree_rss(root) or 0 for root in self._roots())
            self.peaks[step] = max(self.peaks.get(step, 0), total)


def run_variant(name: str, data: Path, timeout: int, scratch: Path) -> dict[str, object]:
    project = scratch / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    project.mkdir()
    cmd = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", "prod", "-C", str(project), "--data", str(data)]
    for override in VARIANTS[name]:
        cmd += ["--set", override]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    peaks = StepPeaks(project, project / "logs" / "pipeline_prod.log")
    peaks.start()
    result = timed_run(cmd, env, timeout, scratch / f"{project.name}.log")
    peaks.stop.set()
    peaks.join()
    result["step_peak_mib"] = {step: round(b / 2**20) for step, b in peaks.peaks.items()}
    metrics = project / "reports" / "metrics_prod.json"
    if metrics.exists():
        report = json.loads(metrics.read_text())
        result["roc_auc"] = report["labels"][report.get("primary_label", "toxic")]["roc_auc"]
    state = project / ".socialscore" / "state_prod.json"
    if state.exists():
        steps = json.loads(state.read_text())["steps"]
        result["trainer"] = steps.get("train", {}).get("facts", {}).get("trainer")
        result["step_s"] = {step: round(rec.get("seconds", 0), 1) for step, rec in steps.items()}
        result["train_facts"] = steps.get("train", {}).get("facts", {})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--keep", type=Path, help="keep the projects here (default: a temporary directory)")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, load {os.getloadavg()}, data {args.data}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ss-scale-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        for name in args.variants:
            result = run_variant(name, args.data, args.timeout, scratch)
            rows.append((name, result))
            print(f"{datetime.now(UTC):%H:%M} UTC", name, json.dumps(result), flush=True)
    print(f"{'variant':24s} {'exit':>4s} {'wall s':>7s} {'CPU s':>7s} {'peak MiB (tree)':>15s} {'AUC':>7s} trainer")
    for name, r in rows:
        auc = r.get("roc_auc")
        print(
            f"{name:24s} {r['exit']:>4} {r.get('wall_s', 0):7.0f} {r.get('cpu_s', 0):7.0f} "
            f"{r.get('peak_tree_rss_mib', 0):15,} {'n/a' if auc is None else f'{auc:.4f}':>7} {r.get('trainer')}"
        )


if __name__ == "__main__":
    main()
