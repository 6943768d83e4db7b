"""µs per Jigsaw-length comment, in batch: vocabulary FeatureBuilder vs hashing (compiled and Python).

    uv run python benchmarks/bench_featurise.py                 # the shared Jigsaw sample
    uv run python benchmarks/bench_featurise.py --repeat 5 --json out.json

All featurizers are fitted on the same 8,000 texts and time ``transform`` of the other texts in
one batch (one process: ``n_jobs=1``), best of ``--repeat`` runs. The parts are timed alone too, so
each one's share is visible: tokenisation per text (``TextPreprocessor.tokens``, the Python path and
the vocabulary featurizer's) and compiled per batch (``token_batch``, the hashing featurizer's), the
hash kernel on token lists and on the batch's encoded tokens, the engineered features per text and
per batch, and the tf-idf weighing of the counts. CPU time is the figure to compare on a shared
machine; wall time is printed beside it.
Without the shared sample, ``socialscore.storage.synthetic.generate_example`` texts are used (it says so).
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
from _shared import JIGSAW_SAMPLE

from socialscore.modeling.featurizers.engineered import (
    LEXICON,
    engineered_batch,
    engineered_features,
    known_placeholders,
)
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.featurizers.hash_kernel import (
    compiled_available,
    compiled_kernel,
    count_encoded,
    count_hashed,
)
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.storage.synthetic import generate_example
from socialscore.text.preprocess import TextPreprocessor

SHARED = JIGSAW_SAMPLE


def load_texts(path: Path) -> tuple[list[str], str]:
    if path.exists():
        frame = pd.read_csv(path, keep_default_na=False)
        column = next(c for c in ("comment_text", "anonymized_comment", "text") if c in frame.columns)
        return frame[column].astype(str).tolist(), str(path)
    return generate_example(10_000, 42)["comment_text"].tolist(), "generate_example(10000) (shared sample absent)"


def best_of(repeat: int, function) -> tuple[float, float]:
    """Best wall and best process CPU seconds of ``repeat`` calls (CPU time is steadier on a shared box)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        function()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu


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
    compiled = compiled_kernel()
    candidates = {
        "vocabulary (FeatureBuilder)": FeatureBuilder(n_jobs=1),
        "hashing, compiled (numba)": HashingFeaturizer(hash_bits=args.hash_bits, n_jobs=1, compiled=None),
        "hashing, Python fallback": HashingFeaturizer(hash_bits=args.hash_bits, n_jobs=1, compiled=False),
    }
    per_text = 1e6 / len(batch)
    results: dict[str, dict[str, float]] = {}
    hashing = candidates["hashing, compiled (numba)"]
    grams = hashing.word_ngram_range, hashing.char_ngram_range, hashing.n_buckets
    tokens = [pre.tokens(t) for t in batch]
    encoded = pre.token_batch(batch) if compiled else None  # warms the compiled tokeniser up too
    parts = {
        "tokenisation, per text": lambda: [pre.tokens(t) for t in batch],
        "tokenisation, compiled batch": encoded and (lambda: pre.token_batch(batch)),
        "hash kernel (token lists in)": lambda: count_hashed(tokens, *grams),
        "hash kernel (encoded batch in)": encoded and (lambda: count_encoded(compiled, encoded.utf8, encoded.tok_chars, encoded.doc_tokens, *grams)),
        "engineered, per text": lambda: engineered_features(batch, tokens, known_placeholders()),
        "engineered, compiled batch": encoded and (lambda: engineered_batch(batch, encoded, known_placeholders(), LEXICON)),
    }  # fmt: skip
    for name, part in parts.items():
        if part:
            part()  # warm-up: compiles or loads kernels
            wall, cpu = best_of(args.repeat, part)
            results[name] = {"wall_us": wall * per_text, "cpu_us": cpu * per_text}
    for name, featurizer in candidates.items():
        featurizer.fit(fit)
        featurizer.transform(batch[:50])  # warm-up: compiles or loads the kernel, fills caches' first entries
        wall, cpu = best_of(args.repeat, lambda f=featurizer: f.transform(batch))
        results[name] = {"wall_us": wall * per_text, "cpu_us": cpu * per_text}
        if isinstance(featurizer, HashingFeaturizer):
            counts = featurizer.count(batch)
            wall, cpu = best_of(args.repeat, lambda f=featurizer, c=counts: f._weigh(*c))
            results[f"  of which tf-idf weighing ({name.split(', ')[1]})"] = {"wall_us": wall * per_text, "cpu_us": cpu * per_text}
    print(f"{'path':44s} {'wall µs/comment':>16s} {'CPU µs/comment':>15s}")
    for name, row in results.items():
        print(f"{name:44s} {row['wall_us']:16.1f} {row['cpu_us']:15.1f}")
    target = results["hashing, compiled (numba)"]["cpu_us"]
    print(f"target <= 40 µs per comment (CPU): {'met' if target <= 40 else 'missed'} ({target:.1f})")
    if args.json:
        args.json.write_text(json.dumps({"data": origin, "batch": len(batch), "us_per_comment": results}, indent=2))


if __name__ == "__main__":
    main()
