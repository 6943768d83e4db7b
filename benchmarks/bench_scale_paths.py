"""Prod runs, in-memory vocabulary path vs hashing + out-of-core path: wall, CPU, peak RSS, held-out AUC.

    uv run python benchmarks/scale_data.py --rows 100000 --out /tmp/scale_100k.csv
    uv run python benchmarks/bench_scale_paths.py --data /tmp/scale_100k.csv --timeout 1200

Each variant runs ``socialscore run --mode prod`` (all seven steps, SQLite) in a fresh temporary
project under ``/usr/bin/time``, with ``bench_pipeline.timed_run`` sampling the RSS summed over the
run and its worker processes every 0.2 s. The held-out ROC AUC is the evaluate step's, the trainer
the train step's ``trainer`` fact. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import machine, timed_run

VARIANTS = {
    "in-memory, vocabulary": ["features.vectorizer=vocabulary", "train.trainer=in_memory"],
    "out-of-core, hashing": ["features.vectorizer=hashing", "train.trainer=out_of_core"],
    "defaults (auto)": [],
}


def run_variant(name: str, data: Path, timeout: int, scratch: Path) -> dict[str, object]:
    project = scratch / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    project.mkdir()
    cmd = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", "prod", "-C", str(project), "--data", str(data)]
    for override in VARIANTS[name]:
        cmd += ["--set", override]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    result = timed_run(cmd, env, timeout, scratch / f"{project.name}.log")
    metrics = project / "reports" / "metrics_prod.json"
    if metrics.exists():
        report = json.loads(metrics.read_text())
        result["roc_auc"] = report["labels"][report.get("primary_label", "toxic")]["roc_auc"]
    state = project / ".socialscore" / "state_prod.json"
    if state.exists():
        result["trainer"] = json.loads(state.read_text())["steps"].get("train", {}).get("facts", {}).get("trainer")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, data {args.data}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ss-scale-") as scratch:
        for name in args.variants:
            result = run_variant(name, args.data, args.timeout, Path(scratch))
            rows.append((name, result))
            print(name, json.dumps(result), flush=True)
    print(f"{'variant':24s} {'exit':>4s} {'wall s':>7s} {'CPU s':>7s} {'peak MiB (tree)':>15s} {'AUC':>7s} trainer")
    for name, r in rows:
        auc = r.get("roc_auc")
        print(
            f"{name:24s} {r['exit']:>4} {r.get('wall_s', 0):7.0f} {r.get('cpu_s', 0):7.0f} "
            f"{r.get('peak_tree_rss_mib', 0):15,} {'n/a' if auc is None else f'{auc:.4f}':>7} {r.get('trainer')}"
        )


if __name__ == "__main__":
    main()
