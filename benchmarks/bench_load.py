"""Database load speed: socialscore's replace_table against pandas ``to_sql`` on the same rows.

    uv run python benchmarks/bench_load.py                       # 100k and 160k rows
    uv run python benchmarks/bench_load.py --rows 10000 --url postgresql://postgres@127.0.0.1:5432/test

PostgreSQL comes from --url, else SOCIALSCORE_TEST_DATABASE_URL / DATABASE_URL; SQLite is a temporary
file. Prints a markdown table of rows/s and the speed-up of ours over each alternative: medians of
--repeat runs taken in turns (ours, to_sql, to_sql + keys, ours, ...) so all see the same machine load.
Ours includes everything a load does (primary key, split index, content hash, atomic swap); bare
``to_sql`` writes a table with no key or index, so on PostgreSQL ``to_sql`` followed by the same
primary key and split index (the same end state, minus the checksum) is timed too. "client CPU s" is
this process's CPU time (the server's is not in it). ``method='multi'`` is so slow that it runs once on
the first --multi-rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from socialscore.storage.db.database import Database
from socialscore.storage.db.url import normalise_url

LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
_WORDS = (
    "the a you are this is not what article page edit wikipedia talk please people think why would "
    "like know just source \"quoted\" don't it's can't stupid idiot great thanks fact section deleted "
    "user block vandalism 😀 café naïve \\backslash tab\there line\nbreak"
)
VOCAB = _WORDS.split(" ")


def synthetic_comments(rows: int, seed: int = 7) -> pd.DataFrame:
    """Comments of Jigsaw-like length (lognormal word counts, mean ~300 characters, long tail) with
    quotes, tabs, newlines, backslashes and emoji; the table's full column set."""
    rng = np.random.default_rng(seed)
    vocab = np.array(VOCAB, dtype=object)
    lengths = np.clip(rng.lognormal(mean=3.6, sigma=0.8, size=rows).astype(int), 3, 1000)
    words = vocab[rng.integers(0, len(vocab), size=int(lengths.sum()))]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(rows)]
    frame = pd.DataFrame({"id": [f"c{i:08d}" for i in range(rows)], "text": texts})
    for j, label in enumerate(LABELS):
        frame[f"label_{label}"] = (rng.random(rows) < 0.1 / (j + 1)).astype("int16")
    frame["split"] = np.where(rng.random(rows) < 0.8, "train", "test")
    frame["source"] = "synthetic.csv"
    frame["content_hash"] = pd.util.hash_pandas_object(frame["text"], index=False).map("{:016x}".format)
    frame["loaded_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
    return frame


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds)."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def interleaved(fns: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Median (wall, CPU) of each function, run in turns so that they share the machine's moods."""
    times: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, bucket in zip(fns, times, strict=True):
            bucket.append(timed(fn))
    return [(statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in times]


Result = tuple[str, str, int, tuple[float, float]]  # database, method, rows, (wall, CPU) seconds


def to_sql_with_keys(frame: pd.DataFrame, pg: Database, table: str) -> None:
    """``to_sql`` then the primary key and split index our table has: the same end state."""
    frame.to_sql(table, pg.engine, if_exists="replace", index=False, chunksize=1000)
    with pg.engine.begin() as conn:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD PRIMARY KEY ("id")')
        conn.exec_driver_sql(f'CREATE INDEX "ix_{table}_split" ON "{table}" ("split")')


def bench_rows(frame: pd.DataFrame, pg: Database | None, repeat: int, multi_rows: int) -> list[Result]:
    table = f"bench_load_{uuid.uuid4().hex[:8]}"
    rows = len(frame)
    results: list[Result] = []
    if pg is not None:
        ours, default, keyed = interleaved(
            [
                lambda: pg.replace_table(table, frame),
                lambda: frame.to_sql(f"{table}_pd", pg.engine, if_exists="replace", index=False, chunksize=1000),
                lambda: to_sql_with_keys(frame, pg, f"{table}_pk"),
            ],
            repeat,
        )
        results.append(("PostgreSQL", "socialscore replace_table (binary COPY, key, index, checksum)", rows, ours))
        results.append(("PostgreSQL", "pandas to_sql (default method, chunksize 1000)", rows, default))
        results.append(("PostgreSQL", "pandas to_sql (default, chunksize 1000) + same key and index", rows, keyed))
        # method='multi' is so slow that it runs once on the first rows only; rows/s is what compares
        head = frame.iloc[: min(rows, multi_rows)]
        multi = timed(
            lambda: head.to_sql(
                f"{table}_pd", pg.engine, if_exists="replace", index=False, chunksize=1000, method="multi"
            )
        )
        results.append(("PostgreSQL", "pandas to_sql (method='multi', chunksize 1000)", len(head), multi))
        pg.drop_table(table)
        pg.drop_table(f"{table}_pd")
        pg.drop_table(f"{table}_pk")
    with tempfile.TemporaryDirectory() as tmp:
        lite = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        ours, theirs = interleaved(
            [
                lambda: lite.replace_table(table, frame),
                lambda: frame.to_sql(f"{table}_pd", lite.engine, if_exists="replace", index=False, chunksize=1000),
            ],
            repeat,
        )
        lite.close()
    results.append(("SQLite", "socialscore replace_table (executemany)", rows, ours))
    results.append(("SQLite", "pandas to_sql (default method, chunksize 1000)", rows, theirs))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 160_000])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per method (median)")
    parser.add_argument("--multi-rows", type=int, default=20_000, help="rows for to_sql method='multi'")
    parser.add_argument(
        "--url",
        default=os.environ.get("SOCIALSCORE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL"),
    )
    args = parser.parse_args()
    pg = Database.from_url(normalise_url(args.url)) if args.url else None
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"# Load benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
        f"{os.cpu_count()} CPUs, load average {load} at start; Python {platform.python_version()}, "
        f"pandas {pd.__version__}; PostgreSQL: {pg.describe() if pg else 'none'}\n"
    )
    print("| rows | database | method | seconds | client CPU s | rows/s | ours is faster by |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for rows in args.rows:
        frame = synthetic_comments(rows)
        results = bench_rows(frame, pg, args.repeat, args.multi_rows)
        ours = {db: n / s for db, method, n, (s, _) in results if method.startswith("socialscore")}
        for db, method, n, (secs, cpu) in results:
            rate = n / secs
            faster = "—" if method.startswith("socialscore") else f"{ours[db] / rate:.1f}×"
            print(f"| {n:,} | {db} | {method} | {secs:.2f} | {cpu:.2f} | {rate:,.0f} | {faster} |", flush=True)
    print(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if pg is None:
        print("(no PostgreSQL URL: pass --url or set SOCIALSCORE_TEST_DATABASE_URL)")
    else:
        pg.close()


if __name__ == "__main__":
    main()
