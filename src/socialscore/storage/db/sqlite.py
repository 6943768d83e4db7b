"""SQLite: connection pragmas, the batched ``executemany`` replace, reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from socialscore.storage.db.schema import _DDL, META_TABLE, Column, _now_utc, _q

if TYPE_CHECKING:
    import pandas as pd


# --- SQLite -------------------------------------------------------------------------------------
def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Autocommit at the driver level: we issue BEGIN/COMMIT ourselves so DDL stays transactional.
    dbapi_connection.isolation_level = None
    for pragma in (
        "journal_mode=WAL",  # readers never block on the loader; a kill -9 rolls back cleanly
        "synchronous=NORMAL",  # durable across process crashes in WAL mode
        "busy_timeout=30000",
        "temp_store=MEMORY",
        "cache_size=-65536",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_values(frame: pd.DataFrame, schema: list[Column]) -> Iterator[tuple[Any, ...]]:
    """Rows of plain Python values (sqlite3 cannot bind numpy scalars); NULL for missing."""
    import pandas as pd

    columns = []
    for col in schema:
        s = frame[col.name]
        if col.type == "timestamp":
            # formatted once per distinct value: loaded_at has one value for the whole load
            codes, uniques = pd.factorize(s)
            text = [u.isoformat(sep=" ") for u in uniques] + [None]  # code -1 (NaT) → NULL
            columns.append([text[c] for c in codes.tolist()])
            continue
        if col.type == "boolean":
            s = s.astype("object").where(s.notna(), None).map(lambda v: v if v is None else int(v))
        if s.isna().any():
            columns.append(s.astype("object").where(s.notna(), None).tolist())
        else:
            columns.append(s.tolist())
    return zip(*columns, strict=True)


def _sqlite_replace(
    conn: sqlite3.Connection,
    name: str,
    schema: list[Column],
    chunks: Iterator[pd.DataFrame],
    content_hash: Any,
) -> int:
    stage = f"{name}__staging"
    defs = ", ".join(
        f"{_q(c.name)} {_DDL[c.type]}" + (" PRIMARY KEY NOT NULL" if c.name == "id" else "") for c in schema
    )
    insert = f"INSERT INTO {_q(stage)} VALUES ({', '.join('?' for _ in schema)})"
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {_q(stage)}")
        conn.execute(f"CREATE TABLE {_q(stage)} ({defs})")
        rows = 0
        for chunk in chunks:
            conn.executemany(insert, _sqlite_values(chunk, schema))
            rows += len(chunk)
        conn.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        conn.execute(f"ALTER TABLE {_q(stage)} RENAME TO {_q(name)}")
        if any(c.name == "split" for c in schema):
            conn.execute(f'CREATE INDEX {_q("ix_" + name + "_split")} ON {_q(name)} ("split")')
        conn.execute(
            f"INSERT INTO {_q(META_TABLE)} VALUES (?, ?, ?, ?, ?) ON CONFLICT (\"name\") DO UPDATE SET "
            '"content_hash" = excluded."content_hash", "rows" = excluded."rows", '
            '"written_at" = excluded."written_at", "ident" = excluded."ident"',
            (name, content_hash(), rows, _now_utc().isoformat(" "), str(rows)),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return rows


def _sqlite_read(
    conn: sqlite3.Connection, name: str, types: dict[str, str], where_split: str | None
) -> pd.DataFrame:
    import pandas as pd

    cols = ", ".join(_q(c) for c in types)
    query = f"SELECT {cols} FROM {_q(name)}"
    params: tuple[Any, ...] = ()
    if where_split is not None:
        query += ' WHERE "split" = ?'
        params = (where_split,)
    query += " ORDER BY rowid"  # the order written, even when an index covers the columns
    rows = conn.execute(query, params).fetchall()
    return pd.DataFrame.from_records(rows, columns=list(types), coerce_float=False)


def _sqlite_read_chunks(
    conn: sqlite3.Connection,
    name: str,
    types: dict[str, str],
    chunk_rows: int,
    splits: tuple[str | None, str | None],
    order_by: str | None,
) -> Iterator[pd.DataFrame]:
    import pandas as pd

    where_split, not_split = splits
    query = f"SELECT {', '.join(_q(c) for c in types)} FROM {_q(name)}"
    conditions, params = [], []
    # "+split": the split index must not drive the plan, or an ORDER BY would sort the whole split
    # in memory (temp_store=MEMORY) instead of walking the ordered column's index
    if where_split is not None:
        conditions.append('+"split" = ?')
        params.append(where_split)
    if not_split is not None:
        conditions.append('+"split" IS NOT ?')
        params.append(not_split)
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    # BINARY collation compares the UTF-8 bytes: the code-point order Python sorts strings in
    query += f" ORDER BY {_q(order_by)} COLLATE BINARY" if order_by is not None else " ORDER BY rowid"
    cursor = conn.execute(query, params)
    try:
        while rows := cursor.fetchmany(chunk_rows):
            yield pd.DataFrame.from_records(rows, columns=list(types), coerce_float=False)
    finally:
        cursor.close()
