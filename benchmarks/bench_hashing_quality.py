"""Held-out quality: hashing vs vocabulary featurizer, through the real pipeline, per dataset and split seed.

    uv run python benchmarks/bench_hashing_quality.py                        # every shared dataset found
    uv run python benchmarks/bench_hashing_quality.py --datasets davidson-offensive --seeds 1 2 3
    uv run python benchmarks/bench_hashing_quality.py --variant "hashing 2^22=features.hash_bits=22"

For each dataset and ``transform.seed`` (a different train/test split) it runs ``socialscore run --mode
prod`` (extract … evaluate, the gate recorded but not enforced) in a scratch project once per variant, as
a user would (``--data``, ``--label-column``), and reads the evaluate step's held-out ROC AUC and macro-F1
(of the primary label, at the model's own threshold). Prints each run, then per dataset the mean and the
paired difference against the vocabulary featurizer (mean ± sd over seeds). Shared data is found under
``$SOCIALSCORE_SHARED_DIR`` (default ``../shared`` from the project directory).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _shared import shared_dir

SHARED = shared_dir()
# name → (file under the shared data directory, CLI arguments choosing the label)
DATASETS: dict[str, tuple[str, list[str]]] = {
    "jigsaw-sample": ("data/jigsaw/cleaned_training_sample.csv", []),
    "jigsaw-10k-lower": ("data/jigsaw/train_toxic_10k_lowercased.csv", []),
    "davidson-offensive": ("data/davidson2017/labeled_data.csv", ["--label-column", "offensive"]),
    "davidson-toxic": ("data/davidson2017/labeled_data.csv", ["--label-column", "toxic"]),
}
STEPS = ["extract", "transform", "load", "features", "train", "evaluate"]
VARIANTS = {
    "vocabulary": ["features.vectorizer=vocabulary"],
    "hashing": ["features.vectorizer=hashing"],
}


def macro_f1(confusion: dict[str, int]) -> float:
    tp, fp, fn, tn = (confusion[k] for k in ("tp", "fp", "fn", "tn"))
    pos = 2 * tp / max(2 * tp + fp + fn, 1)
    neg = 2 * tn / max(2 * tn + fn + fp, 1)
    return (pos + neg) / 2


def run_once(project: Path, data: Path, label_args: list[str], seed: int, overrides: list[str]) -> dict[str, float]:
    command = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", "prod", "-C", str(project)]
    command += ["--data", str(data), *label_args, "--steps", *STEPS]
    for override in [f"transform.seed={seed}", "gate.enforce=false", *overrides]:
        command += ["--set", override]
    t0, cpu0 = time.perf_counter(), os.times()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu1 = os.times()
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    metrics = json.loads((project / "reports" / "metrics_prod.json").read_text())
    primary = metrics["labels"][metrics.get("primary_label") or next(iter(metrics["labels"]))]
    return {
        "auc": float(primary["roc_auc"]),
        "macro_f1": macro_f1(primary["confusion"]),
        "wall_s": time.perf_counter() - t0,
        "cpu_s": (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE[,KEY=VALUE]",
                        help="an extra variant: a name and --set overrides (comma-separated)")
    parser.add_argument("--file", action="append", default=[], metavar="NAME=PATH",
                        help="an extra dataset (e.g. benchmarks/scale_data.py output), detected columns")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args()
    for spec in args.file:
        name, _, path = spec.partition("=")
        DATASETS[name] = (str(Path(path).resolve()), [])
        args.datasets.append(name)
    variants = dict(VARIANTS)
    for spec in args.variant:
        name, _, sets = spec.partition("=")
        variants[name] = [s for s in sets.split(",") if s]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; held-out primary label, prod settings, load {os.getloadavg()[0]:.1f}")
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for dataset in args.datasets:
        relative, label_args = DATASETS[dataset]
        data = SHARED / relative
        if not data.exists():
            print(f"{dataset}: skipped ({data} not found)")
            continue
        results[dataset] = {name: [] for name in variants}
        with tempfile.TemporaryDirectory(prefix="ss-hashq-") as scratch:
            for seed in args.seeds:
                for name, overrides in variants.items():
                    r = run_once(Path(scratch), data, label_args, seed, overrides)
                    results[dataset][name].append(r)
                    print(f"{dataset} seed {seed} {name:22s} AUC {r['auc']:.4f} macro-F1 {r['macro_f1']:.4f} "
                          f"({r['cpu_s']:.0f} CPU-s, {r['wall_s']:.0f} s wall)", flush=True)
    print(f"\n| dataset | featurizer | AUC | macro-F1 | ΔAUC vs vocabulary (mean ± sd over {len(args.seeds)} seeds) |")
    print("|---|---|---|---|---|")
    for dataset, by_variant in results.items():
        reference = [r["auc"] for r in by_variant["vocabulary"]]
        for name, runs in by_variant.items():
            diffs = [r["auc"] - v for r, v in zip(runs, reference, strict=True)]
            spread = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
            print(f"| {dataset} | {name} | {statistics.mean(r['auc'] for r in runs):.4f} | "
                  f"{statistics.mean(r['macro_f1'] for r in runs):.4f} | {statistics.mean(diffs):+.4f} ± {spread:.4f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
