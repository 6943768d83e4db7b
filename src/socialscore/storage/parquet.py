"""Parquet files one row batch at a time: reading in chunks, writing from parts, counting rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Rows per parquet row group: the writer holds one row group's encoded pages until it is complete.
PARQUET_ROW_GROUP = 65_536


def iter_parquet(path: Path, rows: int, columns: list[str] | None = None) -> Iterator[Any]:
    """A parquet file as pandas frames of at most ``rows`` rows, index = row number (one batch in
    memory at a time); a file without rows gives one empty frame with the file's columns."""
    import pandas as pd
    import pyarrow.parquet as pq

    # Buffered page reads without pre-buffering: a batch reads only its pages, even when the file is
    # one row group (pre_buffer reads whole column chunks: the size of the file).
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20) as handle:
        start = 0
        for batch in handle.iter_batches(batch_size=rows, columns=columns):
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
        if not start:
            yield handle.schema_arrow.empty_table().select(columns or handle.schema_arrow.names).to_pandas()


def write_parquet_parts(path: Path, parts: Iterable[Any]) -> None:
    """The pandas frames (or Arrow tables) of ``parts`` as one parquet file, one part in memory at a
    time; the schema (with pandas' metadata) is the first part's. Empty parts are skipped unless all
    are empty (then the file has the first part's columns and no rows); no part: ValueError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, empty = None, None
    try:
        for part in parts:
            table = pa.Table.from_pandas(part, preserve_index=False) if hasattr(part, "to_parquet") else part
            if not table.num_rows:
                empty = table if empty is None else empty
                continue
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema), row_group_size=PARQUET_ROW_GROUP)
        if writer is None:
            if empty is None:
                raise ValueError(f"no parts to write to {path}")
            pq.write_table(empty, path)
    finally:
        if writer is not None:
            writer.close()


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        return handle.metadata.num_rows
