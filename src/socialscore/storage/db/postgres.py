"""PostgreSQL: the binary COPY writer and reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from socialscore.storage.db.schema import (
    _BATCH_ROWS,
    _DDL,
    _NUMPY,
    _WIDTH,
    META_TABLE,
    Column,
    _arrow_text,
    _fixed_values,
    _now_utc,
    _q,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


# --- PostgreSQL ---------------------------------------------------------------------------------
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_PG_TRAILER = b"\xff\xff"


def _pg_binary(frame: pd.DataFrame, schema: list[Column]) -> memoryview:
    """The rows in PostgreSQL's binary COPY format, assembled column-wise by Arrow (no per-row Python).

    Each row is: field count (int16), then per field its length (int32, -1 for NULL) and its bytes.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(frame)

    def fixed(values: np.ndarray, width: int) -> Any:
        raw = pa.py_buffer(np.ascontiguousarray(values).view(np.uint8).tobytes())
        return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, raw]).cast(pa.binary())

    fields = [fixed(np.full(n, len(schema), dtype=">i2"), 2)]
    for col in schema:
        series = frame[col.name]
        if col.type == "text":
            payload = _arrow_text(series)
            lengths = pc.binary_length(payload).to_numpy(zero_copy_only=False)
            null = series.isna().to_numpy()
            lengths = np.where(null, -1, np.nan_to_num(lengths, nan=0)).astype(">i4")
        else:
            values, null = _fixed_values(series, col.type)
            payload = fixed(values, _WIDTH[col.type])
            lengths = np.where(null, -1, _WIDTH[col.type]).astype(">i4")
            if null.any():
                payload = pc.if_else(pa.array(null), pa.scalar(None, pa.binary()), payload)
        fields += [fixed(lengths, 4), payload]
    rows = pc.binary_join_element_wise(*fields, b"", null_handling="replace", null_replacement=b"")
    offsets = np.frombuffer(rows.buffers()[1], np.int32, n + 1, rows.offset * 4)
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


def _pg_has_lz4(conn: Any) -> bool:
    row = conn.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_catalog.pg_settings WHERE name = 'default_toast_compression'"
    ).fetchone()
    return bool(row and row[0])


def _pg_replace(
    conn: Any, name: str, schema: list[Column], chunks: Iterator[pd.DataFrame], content_hash: Any
) -> int:
    from psycopg.copy import QueuedLibpqWriter

    stage = f"{name}__staging"
    defs = ", ".join(f"{_q(c.name)} {_DDL[c.type]}" for c in schema)
    columns = ", ".join(_q(c.name) for c in schema)
    rows = 0
    with conn.transaction():
        # One writer per table at a time; released at commit or rollback (also on a crash).
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"socialscore:{name}",))
        if _pg_has_lz4(conn):
            # Long comments are TOAST-compressed; lz4 costs the server less CPU than pglz.
            conn.execute("SET LOCAL default_toast_compression = 'lz4'")
        conn.execute(f"DROP TABLE IF EXISTS {_q(stage)}")
        conn.execute(f"CREATE TABLE {_q(stage)} ({defs})")
        with conn.cursor() as cur:
            # Binary COPY: the server skips CSV parsing. FREEZE: the table is new in this
            # transaction, so its rows can be written frozen. The queued writer sends on a
            # thread while the next batch is being encoded.
            copy_sql = f"COPY {_q(stage)} ({columns}) FROM STDIN (FORMAT binary, FREEZE true)"
            with cur.copy(copy_sql, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(_PG_HEADER)
                for chunk in chunks:
                    for start in range(0, len(chunk), _BATCH_ROWS):
                        copy.write(_pg_binary(chunk.iloc[start : start + _BATCH_ROWS], schema))
                    rows += len(chunk)
                copy.write(_PG_TRAILER)
        if any(c.name == "id" for c in schema):
            conn.execute(f'ALTER TABLE {_q(stage)} ADD CONSTRAINT {_q(stage + "_pkey")} PRIMARY KEY ("id")')
        if any(c.name == "split" for c in schema):
            conn.execute(f'CREATE INDEX {_q("ix_" + stage + "_split")} ON {_q(stage)} ("split")')
        # The swap: the old table is locked only from here to the commit.
        conn.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        conn.execute(f"ALTER TABLE {_q(stage)} RENAME TO {_q(name)}")
        if any(c.name == "id" for c in schema):
            conn.execute(f'ALTER INDEX {_q(stage + "_pkey")} RENAME TO {_q(name + "_pkey")}')
        if any(c.name == "split" for c in schema):
            conn.execute(f'ALTER INDEX {_q("ix_" + stage + "_split")} RENAME TO {_q("ix_" + name + "_split")}')
        conn.execute(
            f"INSERT INTO {_q(META_TABLE)} "
            '("name", "content_hash", "rows", "written_at", "ident") '
            "VALUES (%s, %s, %s, %s, to_regclass(%s)::oid::text) "
            'ON CONFLICT ("name") DO UPDATE SET "content_hash" = excluded."content_hash", '
            '"rows" = excluded."rows", "written_at" = excluded."written_at", "ident" = excluded."ident"',
            (name, content_hash(), rows, _now_utc(), _q(name)),
        )
    return rows


def _in_write_order(conn: Any) -> None:
    """Rows come back in the order they were written: the table is append-only, so heap order is
    write order, as long as the plan reads the heap in block order from the first block (no
    synchronised scan starting mid-table, no index scan returning rows in key order)."""
    for setting in ("synchronize_seqscans", "enable_indexscan", "enable_indexonlyscan"):
        conn.execute(f"SET LOCAL {setting} = off")


def _pg_read(conn: Any, name: str, types: dict[str, str], where_split: str | None) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from psycopg import sql

    query = sql.SQL("COPY (SELECT {cols} FROM {table}{where}) TO STDOUT (FORMAT csv, NULL {null})").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in types),
        table=sql.Identifier(name),
        where=sql.SQL(" WHERE {} = {}").format(sql.Identifier("split"), sql.Literal(where_split))
        if where_split is not None
        else sql.SQL(""),
        null=sql.Literal("\\N"),
    )
    buffer = io.BytesIO()
    _in_write_order(conn)
    with conn.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            buffer.write(block)
    conn.rollback()  # end the read transaction; nothing to keep
    arrow_types = {
        "text": pa.string(),
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us"),
    }
    if buffer.tell() == 0:
        return pd.DataFrame({c: pd.Series([], dtype=_empty_dtype(t)) for c, t in types.items()})
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(types)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: arrow_types[t] for c, t in types.items()},
            null_values=["\\N"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # a quoted "\N" is text, not NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return table.to_pandas()


def _empty_dtype(kind: str) -> str:
    if kind == "text":
        return "str"
    if kind == "timestamp":
        return "datetime64[us]"
    return _NUMPY[kind]


def _pg_read_chunks(
    conn: Any,
    name: str,
    types: dict[str, str],
    chunk_rows: int,
    splits: tuple[str | None, str | None],
    order_by: str | None,
) -> Iterator[pd.DataFrame]:
    """Chunks through a named (server-side) cursor: the server holds the result, not this process."""
    import pandas as pd
    from psycopg import sql

    where_split, not_split = splits
    split = sql.Identifier("split")
    conditions = []
    if where_split is not None:
        conditions.append(sql.SQL("{} = {}").format(split, sql.Literal(where_split)))
    if not_split is not None:
        conditions.append(sql.SQL("{} IS DISTINCT FROM {}").format(split, sql.Literal(not_split)))
    query = sql.SQL("SELECT {cols} FROM {table}{where}{order}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in types),
        table=sql.Identifier(name),
        where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
        # "C": byte order of the UTF-8 text, the code-point order Python sorts strings in
        order=sql.SQL(' ORDER BY {} COLLATE "C"').format(sql.Identifier(order_by)) if order_by else sql.SQL(""),
    )
    try:
        if order_by is None:
            _in_write_order(conn)
        with conn.cursor(name="socialscore_read_chunks") as cur:
            cur.itersize = chunk_rows
            cur.execute(query)
            while rows := cur.fetchmany(chunk_rows):
                yield pd.DataFrame.from_records(rows, columns=list(types), coerce_float=False)
    finally:
        conn.rollback()  # end the read transaction (and the cursor); nothing to keep
