"""µs per Jigsaw-length comment, in batch: vocabulary FeatureBuilder vs hashing (compiled and Python).

    uv run python benchmarks/bench_featurise.py                 # the shared Jigsaw sample
    uv run python benchmarks/bench_featurise.py --repeat 5 --json out.json

All featurisers are fitted on the same 8,000 texts and time ``transform`` of the other texts in
one batch (one process: ``n_jobs=1``), best of ``--repeat`` runs; the tokenisation alone
(``TextPreprocessor.tokens``, shared by all) is timed too, so the kernel's share is visible.
Without the shared sample, ``socialscore.datasets.generate_example`` texts are used (it says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from socialscore.datasets import generate_example
from socialscore.features import FeatureBuilder
from socialscore.modeling.hash_kernel import compiled_available
from socialscore.modeling.hashing import HashingFeaturiser
from socialscore.text.preprocess import TextPreprocessor

SHARED = Path("/work/shared/data/jigsaw/cleaned_training_sample.csv")


def load_texts(path: Path) -> tuple[list[str], str]:
    if path.exists():
        frame = pd.read_csv(path, keep_default_na=False)
        column = next(c for c in ("comment_text", "anonymized_comment", "text") if c in frame.columns)
        return frame[column].astype(str).tolist(), str(path)
    return generate_example(10_000, 42)["comment_text"].tolist(), "generate_example(10000) (shared sample absent)"


def best_of(repeat: int, function) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--fit-rows", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hash-bits", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    texts, origin = load_texts(args.data)
    fit, batch = texts[: args.fit_rows], texts[args.fit_rows :]
    print(f"data: {origin}; fit {len(fit)}, batch {len(batch)} texts, mean {sum(map(len, batch)) / len(batch):.0f} chars")
    print(f"{platform.node()} {os.cpu_count()} CPUs (shared machine: other jobs may run), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if not compiled_available():
        print("numba unavailable: the 'compiled' row runs the Python path")

    pre = TextPreprocessor()
    candidates = {
        "vocabulary (FeatureBuilder)": FeatureBuilder(n_jobs=1),
        "hashing, compiled (numba)": HashingFeaturiser(hash_bits=args.hash_bits, n_jobs=1, compiled=None),
        "hashing, Python fallback": HashingFeaturiser(hash_bits=args.hash_bits, n_jobs=1, compiled=False),
    }
    results: dict[str, float] = {}
    results["tokenisation only"] = best_of(args.repeat, lambda: [pre.tokens(t) for t in batch]) / len(batch) * 1e6
    for name, featuriser in candidates.items():
        featuriser.fit(fit)
        featuriser.transform(batch[:50])  # warm-up: compiles or loads the kernel, fills caches' first entries
        results[name] = best_of(args.repeat, lambda f=featuriser: f.transform(batch)) / len(batch) * 1e6
    print(f"{'path':32s} {'µs/comment':>11s}")
    for name, micros in results.items():
        print(f"{name:32s} {micros:11.1f}")
    target = results["hashing, compiled (numba)"]
    print(f"target <= 40 µs per comment: {'met' if target <= 40 else 'missed'} ({target:.1f})")
    if args.json:
        args.json.write_text(json.dumps({"data": origin, "batch": len(batch), "us_per_comment": results}, indent=2))


if __name__ == "__main__":
    main()
