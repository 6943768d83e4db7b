"""Microseconds per comment for ``socialscore.text.pii.scrub`` (the serving path) on real comments.

    uv run python benchmarks/pii_speed.py [--data ../shared/data/jigsaw/train_toxic_10k_lowercased.csv]
    uv run python benchmarks/pii_speed.py --baseline-rev 6fece40   # also time the scrubber of a commit
    uv run python benchmarks/pii_speed.py --reference   # also time the reference gates (find_pii fast=False)

Prints CPU µs per comment over all comments, over those with no digit/@/dot (the cheap-gate path) and over
the others, best of ``--repeat`` passes. With ``--baseline-rev`` the old ``text/pii.py`` of that commit
is timed on the same comments in the same process, passes interleaved, so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import JIGSAW_SAMPLE

from socialscore.text.pii import scrub

DEFAULT = JIGSAW_SAMPLE


def _texts(path: Path, limit: int) -> list[str]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        column = next(c for c in ("comment_text", "anonymized_comment", "text") if c in reader.fieldnames)
        return [row[column] for _, row in zip(range(limit), reader)]


def _baseline(rev: str):
    """The ``scrub`` of ``text/pii.py`` at commit ``rev``, loaded from ``git show``."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:src/socialscore/text/pii.py"], cwd=root, check=True, capture_output=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "pii_baseline.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("pii_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scrub


def _per_text_us(texts: list[str], repeat: int, functions: dict) -> dict[str, float]:
    best = {name: float("inf") for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.process_time()
            for text in texts:
                function(text)
            best[name] = min(best[name], time.process_time() - start)
    return {name: b / max(len(texts), 1) * 1e6 for name, b in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-rev", help="a commit whose src/socialscore/text/pii.py to time too")
    parser.add_argument("--reference", action="store_true", help="also time scrub(fast=False), the reference gates")
    args = parser.parse_args()
    texts = _texts(args.data, args.limit)
    functions = {"now": scrub}
    if args.reference:
        functions["reference"] = lambda text: scrub(text, fast=False)
    if args.baseline_rev:
        functions[args.baseline_rev] = _baseline(args.baseline_rev)
    for function in functions.values():
        function("warm up: +44 20 7946 0958 mail a@b.com see example.org 12 Main Street")
    plain_set = {t for t in texts if not any(c.isdigit() for c in t) and "@" not in t and "." not in t}
    plain = [t for t in texts if t in plain_set]
    other = [t for t in texts if t not in plain_set]
    print(f"data {args.data.name}: {len(texts)} comments, median {statistics.median(map(len, texts)):.0f} chars")
    print(f"{'comments':>18} {'n':>5} " + " ".join(f"{name + ' µs':>14}" for name in functions))
    for name, group in (("all", texts), ("no digit/@/dot", plain), ("with digit/@/dot", other)):
        timings = _per_text_us(group, args.repeat, functions)
        print(f"{name:>18} {len(group):5d} " + " ".join(f"{timings[f]:14.1f}" for f in functions))


if __name__ == "__main__":
    main()
