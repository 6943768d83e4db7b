"""Throughput of extract + transform (normalise, PII scrub, dedupe, split) on a large Jigsaw-like table.

    uv run python benchmarks/transform_throughput.py [ROWS] [CSV]

Default: 160,000 rows built by repeating ../shared/data/jigsaw/cleaned_training_sample.csv (ids made
unique, texts varied so de-duplication has normal work), or the synthetic example when it is absent.
Prints rows/s for each phase.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from socialscore.config import DataConfig, TransformConfig
from socialscore.steps.extract import extract
from socialscore.steps.transform import transform
from socialscore.text.normalize import normalize_text
from socialscore.text.pii import scrub_many

DEFAULT = (
    Path(__file__).resolve().parents[1].parent / "shared/data/jigsaw/cleaned_training_sample.csv"
)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 160_000
    source = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT
    base = extract([source] if source.exists() else [], DataConfig()).frame
    repeats = -(-rows // len(base))
    big = pd.concat([base] * repeats, ignore_index=True).iloc[:rows].copy()
    big["id"] = [f"{i:x}" for i in range(len(big))]
    big["text"] = big["text"] + [f" v{i // len(base)}" for i in range(len(big))]
    print(f"{len(big):,} rows from {source.name if source.exists() else 'the synthetic example'}")

    t0 = time.perf_counter()
    texts = [normalize_text(t) for t in big["text"]]
    t1 = time.perf_counter()
    _, counts = scrub_many(texts)
    t2 = time.perf_counter()
    result = transform(big, TransformConfig())
    t3 = time.perf_counter()
    for name, seconds in (
        ("normalize", t1 - t0),
        ("PII scrub", t2 - t1),
        ("transform total", t3 - t2),
    ):
        print(f"{name:16s} {seconds:7.2f} s  {len(big) / seconds:10,.0f} rows/s")
    print(f"PII replaced: {counts}; kept {result.report['rows_kept']:,}")


if __name__ == "__main__":
    main()
