"""Database load speed: socialscore's replace_table (COPY) against pandas ``to_sql`` on the same rows.

    uv run python benchmarks/bench_load.py                       # 100k and 160k rows
    uv run python benchmarks/bench_load.py --rows 10000 --url postgresql://postgres@127.0.0.1:5432/test

PostgreSQL comes from --url, else SOCIALSCORE_TEST_DATABASE_URL / DATABASE_URL; SQLite is a temporary
file. Prints a markdown table of rows/s and the speed-up. Our figure includes the primary key, the
split index and the atomic swap; ``to_sql`` writes a bare table, so the comparison favours it.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from socialscore.db import Database, normalise_url

LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


def synthetic_comments(rows: int, seed: int = 7) -> pd.DataFrame:
    """Comments of Jigsaw-like length (median ~200 chars, long tail), with quotes, newlines, emoji."""
    rng = np.random.default_rng(seed)
    vocab = np.array(
        "the a you are this is not what article page edit wikipedia talk please people think "
        "why would like know just source \"quoted\" don't it's can't stupid idiot great thanks "
        "fact section deleted user block vandalism 😀 café naïve \\backslash tab\there line\nbreak".split(" ")
    )
    lengths = np.clip(rng.lognormal(mean=3.6, sigma=0.8, size=rows).astype(int), 3, 1000)
    words = rng.integers(0, len(vocab), size=int(lengths.sum()))
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(vocab[words[bounds[i] : bounds[i + 1]]]) for i in range(rows)]
    frame = pd.DataFrame({"id": [f"c{i:08d}" for i in range(rows)], "text": texts})
    for j, label in enumerate(LABELS):
        frame[f"label_{label}"] = (rng.random(rows) < 0.1 / (j + 1)).astype("int16")
    frame["split"] = np.where(rng.random(rows) < 0.8, "train", "test")
    frame["source"] = "synthetic.csv"
    frame["content_hash"] = pd.util.hash_pandas_object(frame["text"], index=False).map("{:016x}".format)
    frame["loaded_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    return frame


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(rows_list: list[int], url: str | None) -> None:
    print(f"# Load benchmark — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, pandas {pd.__version__}\n")
    print("| rows | database | method | seconds | rows/s | ours vs this |")
    print("|---:|---|---|---:|---:|---:|")
    pg = Database.from_url(url) if url else None
    table = f"bench_load_{uuid.uuid4().hex[:8]}"
    for rows in rows_list:
        frame = synthetic_comments(rows)
        results: list[tuple[str, str, float]] = []
        if pg is not None:
            ours = timed(lambda: pg.replace_table(table, frame))
            results.append(("PostgreSQL", "socialscore replace_table (COPY)", ours))
            for label, method in (("pandas to_sql (default, chunksize 1000)", None),
                                  ("pandas to_sql (method='multi', chunksize 1000)", "multi")):
                seconds = timed(lambda: frame.to_sql(table + "_tosql", pg.engine, if_exists="replace",
                                                     index=False, chunksize=1000, method=method))
                results.append(("PostgreSQL", label, seconds))
            pg.drop_table(table)
            pg.drop_table(table + "_tosql")
        with tempfile.TemporaryDirectory() as tmp:
            lite = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
            results.append(("SQLite", "socialscore replace_table (executemany)",
                            timed(lambda: lite.replace_table(table, frame))))
            results.append(("SQLite", "pandas to_sql (default, chunksize 1000)",
                            timed(lambda: frame.to_sql(table + "_tosql", lite.engine, if_exists="replace",
                                                       index=False, chunksize=1000))))
            lite.close()
        ours_by_db = {db: s for db, method, s in results if method.startswith("socialscore")}
        for db, method, seconds in results:
            speedup = seconds / ours_by_db[db]
            print(f"| {rows:,} | {db} | {method} | {seconds:.2f} | {rows / seconds:,.0f} | "
                  f"{'—' if method.startswith('socialscore') else f'{speedup:.1f}×'} |")
    if pg is not None:
        pg.close()
    else:
        print("\n(no PostgreSQL URL: pass --url or set SOCIALSCORE_TEST_DATABASE_URL)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 160_000])
    parser.add_argument("--url", default=os.environ.get("SOCIALSCORE_TEST_DATABASE_URL")
                        or os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if args.url:
        normalise_url(args.url)  # fail early on a bad URL
    run(args.rows, args.url)


if __name__ == "__main__":
    main()
