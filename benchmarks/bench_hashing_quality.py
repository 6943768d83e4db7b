"""Held-out toxic ROC AUC: hashing vs vocabulary featurizer, through the real pipeline, over split seeds.

    uv run python benchmarks/bench_hashing_quality.py                       # shared Jigsaw sample
    uv run python benchmarks/bench_hashing_quality.py --seeds 1 2 3 --hash-bits 20 22

For each ``transform.seed`` (a different train/test split) it runs ``socialscore run --mode prod``
(extract … evaluate) in a scratch project once per featurizer and reads the evaluate step's held-out
ROC AUC of the primary label. Prints each run and the mean ± standard deviation of the paired
difference (hashing − vocabulary).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _shared import JIGSAW_SAMPLE

SHARED = JIGSAW_SAMPLE
STEPS = ["extract", "transform", "load", "features", "train", "evaluate"]


def run_once(project: Path, data: Path, seed: int, overrides: list[str]) -> tuple[float, float]:
    command = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", "prod", "-C", str(project), "--data", str(data)]
    command += ["--steps", *STEPS, "--set", f"transform.seed={seed}"]
    for override in overrides:
        command += ["--set", override]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    seconds = time.perf_counter() - t0
    metrics = json.loads((project / "reports" / "metrics_prod.json").read_text())
    primary = metrics.get("primary_label", "toxic")
    return float(metrics["labels"][primary]["roc_auc"]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--hash-bits", type=int, nargs="+", default=[20])
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: pass --data")
    print(f"data {args.data}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; held-out ROC AUC of the primary label")
    variants = {"vocabulary": ["features.vectorizer=vocabulary"]}
    for bits in args.hash_bits:
        variants[f"hashing 2^{bits}"] = ["features.vectorizer=hashing", f"features.hash_bits={bits}"]
    aucs: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="ss-hashq-") as scratch:
        project = Path(scratch)
        for seed in args.seeds:
            for name, overrides in variants.items():
                auc, seconds = run_once(project, args.data, seed, overrides)
                aucs[name].append(auc)
                print(f"seed {seed}  {name:14s} AUC {auc:.4f}  ({seconds:.0f} s wall, shared machine)", flush=True)
    print(f"{'featurizer':14s} {'mean AUC':>9s} {'diff vs vocabulary (mean ± sd)':>32s}")
    for name, values in aucs.items():
        diffs = [a - b for a, b in zip(values, aucs["vocabulary"], strict=True)]
        spread = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        print(f"{name:14s} {statistics.mean(values):9.4f} {statistics.mean(diffs):+17.4f} ± {spread:.4f}")


if __name__ == "__main__":
    main()
