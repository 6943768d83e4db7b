"""load: write the cleaned comments to the database, the system of record.

The pure part (``table_frame``) turns the clean frame into the table's rows; ``run`` does the I/O.
The table is replaced whole and atomically (see ``socialscore.storage.db.database``), so loading twice gives the same
table and an interrupted load leaves the previous one. The recorded checksum leaves out ``loaded_at``,
so an identical reload keeps the same checksum.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator

import pandas as pd

from socialscore.errors import DataError
from socialscore.pipeline.context import StepContext
from socialscore.storage.db.content_hash import ContentHasher
from socialscore.storage.db.schema import infer_schema, normalise
from socialscore.storage.parquet import parquet_rows

LEADING = ("id", "text")
TRAILING = ("split", "source", "content_hash", "loaded_at")
CHUNK_ROWS = 20_000


def text_hash(texts: pd.Series) -> pd.Series:
    """sha256 of each (already normalised) text: the per-row content hash."""
    return pd.Series(
        [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts.tolist()],
        index=texts.index,
        dtype="str",
    )


def table_frame(clean: pd.DataFrame, loaded_at: pd.Timestamp) -> pd.DataFrame:
    """The comments table: id, text, label_*, other columns, split, source, content_hash, loaded_at.

    Labels become SMALLINT-sized integers; ``content_hash`` is added when transform did not provide
    it; ``loaded_at`` is one UTC timestamp (no time zone) for the whole load.
    """
    missing = [c for c in ("id", "text") if c not in clean.columns]
    if missing:
        raise DataError(f"the clean data has no {missing[0]!r} column; rerun step 'transform'")
    frame = clean.copy()
    if "content_hash" not in frame.columns:
        frame["content_hash"] = text_hash(frame["text"].astype("str"))
    for column in frame.columns:
        if column.startswith("label_"):
            frame[column] = frame[column].astype("int16")
    stamp = pd.Timestamp(loaded_at)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    frame["loaded_at"] = stamp
    frame["loaded_at"] = frame["loaded_at"].astype("datetime64[us]")
    labels = [c for c in frame.columns if c.startswith("label_")]
    middle = [c for c in frame.columns if c not in (*LEADING, *TRAILING, *labels)]
    order = [*LEADING, *labels, *middle, *(c for c in TRAILING if c in frame.columns)]
    return frame[order].reset_index(drop=True)


def checksum(table: pd.DataFrame) -> str:
    """The table's content hash without ``loaded_at``, so an identical reload has the same one."""
    return checksum_chunks([table])


def checksum_chunks(tables: Iterable[pd.DataFrame]) -> str:
    """:func:`checksum` of the concatenation of ``tables`` (at least one), one chunk at a time."""
    hasher = None
    for table in tables:
        rows = table.drop(columns=["loaded_at"])
        if hasher is None:
            hasher = ContentHasher(infer_schema(rows))
        hasher.update(normalise(rows, hasher.schema))
    if hasher is None:
        raise ValueError("no chunks to hash")
    return hasher.hexdigest()


def run(ctx: StepContext) -> None:
    # The clean rows are read twice in chunks (never whole): once for the checksum, which the table's
    # metadata needs before the rows are written, then to write them.
    loaded_at = pd.Timestamp.now(tz="UTC")

    def tables() -> Iterator[pd.DataFrame]:
        return (table_frame(clean, loaded_at) for clean in ctx.read_chunks("clean", CHUNK_ROWS))

    content_hash = checksum_chunks(tables())
    total = parquet_rows(ctx.location("clean"))
    name = ctx.location("comments")
    db = ctx.db
    started = time.perf_counter()
    rows = db.replace_table_from_chunks(
        name,
        ctx.progress(tables(), total=max(1, -(-total // CHUNK_ROWS)), description=f"loading {total:,} rows"),
        content_hash=content_hash,
    )
    seconds = time.perf_counter() - started
    ctx.info(f"loaded {rows:,} rows into {name} ({db.describe()}) in {seconds:.2f}s")
    ctx.fact("rows", rows)
    ctx.fact("database", db.describe())
    ctx.fact("rows_per_s", round(rows / seconds) if seconds > 0 else 0)
