"""One API worker's memory serving a bundle, this checkout against another source tree, alternated.

    nice -n 10 uv run python benchmarks/bench_api_rss.py --models-dir <served bundle> \
        --data ../shared/data/davidson2017/labeled_data.csv --base-src <old checkout>/src --scratch <dir>

For each variant (``base``: ``--base-src`` first on PYTHONPATH; ``this``: the installed checkout), one
``socialscore serve`` worker per repeat with its own shipped numba cache (numba keys its cache by the
source path): VmRSS and VmHWM after the start-up warm-up, and after scoring ``--texts`` texts one per
request, then in batches of 256 (``bench_transformer.api_rss``). Prints the median of each.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from _shared import medians
from bench_transformer import api_rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="a CSV with a 'tweet' or 'comment_text' column")
    parser.add_argument("--base-src", type=Path, required=True)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    column = "tweet" if "tweet" in rows[0] else "comment_text"
    texts = [r[column] for r in rows if r[column].strip()][: args.texts]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {len(texts)} texts")
    variants = {"base": str(args.base_src.resolve()), "this": None}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    saved = os.environ.get("PYTHONPATH")
    for _ in range(args.repeats):
        for name, path in variants.items():
            if path:
                os.environ["PYTHONPATH"] = path
            elif saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
            scratch = args.scratch.resolve() / name
            scratch.mkdir(parents=True, exist_ok=True)
            results[name].append(api_rss(args.models_dir.resolve(), texts, scratch))
            print(name, results[name][-1], flush=True)
    print(f"| variant | VmRSS after warm-up | VmHWM after warm-up | VmRSS after {len(texts)} texts | VmHWM after |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        m = medians(runs)
        print(f"| {name} | {m['ready_rss_mb']:.0f} | {m['ready_mb']:.0f} | {m['scored_rss_mb']:.0f} | {m['scored_mb']:.0f} |")


if __name__ == "__main__":
    main()
