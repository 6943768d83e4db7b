"""Microseconds per comment for ``socialscore.text.pii.scrub`` (the serving path) on real comments.

    uv run python benchmarks/pii_speed.py [--data ../shared/data/jigsaw/train_toxic_10k_lowercased.csv]

Prints µs per comment over all comments, over those with no digit/@/dot (the cheap-gate path) and over
the others, best of ``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

from socialscore.text.pii import scrub

DEFAULT = Path(__file__).resolve().parents[1] / "../shared/data/jigsaw/cleaned_training_sample.csv"


def _texts(path: Path, limit: int) -> list[str]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        column = next(c for c in ("comment_text", "anonymized_comment", "text") if c in reader.fieldnames)
        return [row[column] for _, row in zip(range(limit), reader)]


def _per_text_us(texts: list[str], repeat: int) -> float:
    if not texts:
        return float("nan")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            scrub(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = _texts(args.data, args.limit)
    plain = [t for t in texts if not any(c.isdigit() for c in t) and "@" not in t and "." not in t]
    other = [t for t in texts if t not in set(plain)]
    print(f"data {args.data.name}: {len(texts)} comments, median {statistics.median(map(len, texts)):.0f} chars")
    for name, group in (("all", texts), ("no digit/@/dot", plain), ("with digit/@/dot", other)):
        print(f"{name:>18}: {len(group):5d} comments  {_per_text_us(group, args.repeat):8.1f} µs/comment")


if __name__ == "__main__":
    main()
