"""The database: engine from settings, table schema, atomic bulk replace, fast reads.

The only module that builds SQL. A table is always replaced whole inside ONE transaction: a staging
table is created and filled (COPY through psycopg 3 on PostgreSQL, one ``executemany`` on SQLite),
then the old table is dropped, the staging table renamed in and the meta row in ``socialscore_tables``
updated. A crash at any point rolls the whole transaction back, so readers always see the previous
complete table or the new complete one, and no staging table is left behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from socialscore.errors import DatabaseError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.settings.env import EnvSettings

_DRIVER_ERRORS = (SQLAlchemyError, psycopg.Error, sqlite3.Error)
META_TABLE = "socialscore_tables"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Rows per COPY buffer / executemany batch: bounds client memory, lets client and server overlap.
_BATCH_ROWS = 20_000

# Logical column types → DDL (the same spelling works on PostgreSQL and SQLite).
_DDL = {
    "text": "TEXT",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}
_BE_INT = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8"}
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, the zero of PostgreSQL's binary timestamps
_WIDTH = {"smallint": 2, "integer": 4, "bigint": 8, "double": 8, "boolean": 1, "timestamp": 8}
_NUMPY = {"smallint": "int16", "integer": "int32", "bigint": "int64", "double": "float64", "boolean": "bool"}


# --- names and schema ---------------------------------------------------------------------------
def check_name(name: str, what: str = "table") -> str:
    pattern = _NAME if what == "table" else _COLUMN
    if not isinstance(name, str) or not pattern.match(name):
        raise DatabaseError(
            f"invalid {what} name {name!r}: use letters, digits and _ (not starting with a digit)"
        )
    return name


def _q(name: str) -> str:
    """Quote an identifier that ``check_name`` has already validated."""
    return f'"{name}"'


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of _DDL


def column_type(name: str, series: pd.Series) -> str:
    """The logical SQL type for a frame column (``label_*`` integers are SMALLINT)."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "smallint" if name.startswith("label_") else "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        if name.startswith("label_") or dtype.itemsize <= 2:
            return "smallint"
        return "integer" if dtype.itemsize == 4 else "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "text"


def infer_schema(frame: pd.DataFrame) -> list[Column]:
    return [Column(check_name(str(c), "column"), column_type(str(c), frame[c])) for c in frame.columns]


def normalise(frame: pd.DataFrame, schema: list[Column]) -> pd.DataFrame:
    """The frame with each column in the representation its SQL type expects."""
    import pandas as pd

    out = {}
    for col in schema:
        s = frame[col.name]
        if col.type == "text" and (s.dtype == object or not pd.api.types.is_string_dtype(s.dtype)):
            s = s.astype("str")  # object columns may mix types; missing values stay missing
        elif col.type == "timestamp" and getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)  # TIMESTAMP columns hold UTC
        elif col.type == "smallint" and pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("int16")
        out[col.name] = s
    return pd.DataFrame(out, index=frame.index)


def _arrow_text(series: pd.Series) -> Any:
    """A text column as one pyarrow binary array (zero-copy where pandas already holds Arrow)."""
    import pyarrow as pa

    arr = pa.array(series, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return arr.cast(pa.binary())


def _fixed_values(series: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(big-endian values as PostgreSQL's binary format wants them, null mask) for a fixed-width type."""
    import numpy as np

    null = series.isna().to_numpy()
    if kind == "timestamp":
        micros = series.to_numpy("datetime64[us]").astype(np.int64)
        values = np.where(null, 0, micros - _PG_EPOCH_US).astype(">i8")
    elif kind == "double":
        values = series.to_numpy("float64", na_value=0.0).astype(">f8")
    elif kind == "boolean":
        values = series.to_numpy("bool", na_value=False).astype(np.uint8)
    else:
        values = series.to_numpy("int64", na_value=0).astype(_BE_INT[kind])
    return values, null


class ContentHasher:
    """sha256 of the table's content, the same however the rows are chunked.

    Per column, one stream of value bytes and one of lengths (-1 for NULL) are hashed separately, so
    concatenating chunks concatenates the streams. Fast: no per-row Python.
    """

    def __init__(self, schema: list[Column]) -> None:
        self.schema = schema
        self._values = [hashlib.sha256() for _ in schema]
        self._shape = [hashlib.sha256() for _ in schema]

    def update(self, frame: pd.DataFrame) -> None:
        import numpy as np

        if not len(frame):
            return
        for col, values, shape in zip(self.schema, self._values, self._shape):
            series = frame[col.name]
            if col.type == "text":
                arr = _arrow_text(series)
                offsets = np.frombuffer(arr.buffers()[1], np.int32, len(arr) + 1, arr.offset * 4)
                data = arr.buffers()[2]
                if data is not None:
                    values.update(memoryview(data)[offsets[0] : offsets[-1]])
                lengths = np.diff(offsets).astype(np.int64)
                lengths[series.isna().to_numpy()] = -1
                shape.update(lengths.tobytes())
            else:
                fixed, null = _fixed_values(series, col.type)
                values.update(fixed.tobytes())
                shape.update(null.tobytes())

    def hexdigest(self) -> str:
        digest = hashlib.sha256(json.dumps([[c.name, c.type] for c in self.schema]).encode())
        for values, shape in zip(self._values, self._shape):
            digest.update(values.digest())
            digest.update(shape.digest())
        return digest.hexdigest()


def frame_hash(frame: pd.DataFrame) -> str:
    """The content hash ``replace_table`` records for ``frame`` when none is given."""
    schema = infer_schema(frame)
    hasher = ContentHasher(schema)
    hasher.update(normalise(frame, schema))
    return hasher.hexdigest()


def _coerce(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Give columns read back the dtypes they were written with (ints with NULLs stay float)."""
    import pandas as pd

    for name, kind in types.items():
        s = frame[name]
        if kind == "text":
            if not pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
                frame[name] = s.astype("str")
        elif kind == "timestamp":
            if not pd.api.types.is_datetime64_any_dtype(s.dtype):
                frame[name] = pd.to_datetime(s, format="ISO8601")
            frame[name] = frame[name].astype("datetime64[us]")
        elif kind in _NUMPY and not s.isna().any():
            frame[name] = s.astype(_NUMPY[kind])
    return frame


def _logical(declared: str) -> str:
    """Map a catalog type name back to a logical type."""
    t = declared.lower()
    if "timestamp" in t or "date" in t:
        return "timestamp"
    if "bool" in t:
        return "boolean"
    if "smallint" in t or "int2" in t:
        return "smallint"
    if "bigint" in t or "int8" in t:
        return "bigint"
    if "int" in t:
        return "integer"
    if "doub" in t or "real" in t or "float" in t or "numeric" in t:
        return "double"
    return "text"


def _first_line(exc: BaseException) -> str:
    """The primary message only: a server's DETAIL/CONTEXT lines may quote row data."""
    original = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(original)
    return (text.strip().splitlines() or [exc.__class__.__name__])[0].strip()


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- the database -------------------------------------------------------------------------------
class Database:
    """One database (PostgreSQL or embedded SQLite) holding whole tables written atomically."""

    def __init__(self, url: URL, connect_timeout: float = 5.0) -> None:
        self.url = url
        self.dialect = "postgresql" if url.get_backend_name() == "postgresql" else "sqlite"
        if self.dialect == "postgresql":
            self.engine: Engine = create_engine(
                url, pool_pre_ping=True, connect_args={"connect_timeout": max(1, int(connect_timeout))}
            )
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
            event.listen(self.engine, "connect", _sqlite_on_connect)
        self._meta_ready = False

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str | URL, connect_timeout: float = 5.0) -> Database:
        return cls(normalise_url(url), connect_timeout)

    @classmethod
    def from_settings(cls, settings: Settings, layout: Layout) -> Database:
        """settings.database.url, else DATABASE_URL, else DB_HOST/..., else SQLite under data/."""
        from socialscore.settings.env import EnvSettings

        env = EnvSettings.for_project(layout.project_dir)
        url = resolve_url(settings.database.url, env, layout.sqlite_path)
        return cls(url, settings.database.connect_timeout)

    def describe(self) -> str:
        """Dialect and where (never the password)."""
        if self.dialect == "sqlite":
            return f"SQLite {self.url.database}"
        return f"PostgreSQL {self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database or ''}"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connections and errors -----------------------------------------------------------------
    def _unreachable(self, exc: BaseException) -> DatabaseError:
        reason = self._scrub(_first_line(exc))
        if self.dialect == "sqlite":
            return DatabaseError(f"cannot open the SQLite database {self.url.database}: {reason}")
        host, port = self.url.host or "localhost", self.url.port or 5432
        return DatabaseError(
            f"cannot connect to PostgreSQL at {host}:{port} (database {self.url.database!r}): {reason}"
            " — start the server or check DATABASE_URL / DB_HOST, DB_PORT"
        )

    def _scrub(self, text: str) -> str:
        password = self.url.password
        return text.replace(str(password), "***") if password else text

    @contextmanager
    def _connection(self, action: str) -> Iterator[Any]:
        """A DBAPI connection (psycopg or sqlite3); driver errors become one-line DatabaseErrors."""
        try:
            if self.dialect == "sqlite" and self.url.database:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            fairy = self.engine.raw_connection()
        except (*_DRIVER_ERRORS, OSError) as exc:
            raise self._unreachable(exc) from None
        try:
            conn = fairy.driver_connection
            if self.dialect == "postgresql" and not conn.autocommit and conn.info.transaction_status:
                conn.rollback()  # start from a clean slate: transaction() must be the outermost block
            yield conn
        except DatabaseError:
            raise
        except _DRIVER_ERRORS as exc:
            raise DatabaseError(f"{self.describe()}: {action} failed: {self._scrub(_first_line(exc))}") from None
        finally:
            fairy.close()

    # --- queries --------------------------------------------------------------------------------
    def table_exists(self, name: str) -> bool:
        check_name(name)
        with self._connection(f"looking up table {name}") as conn:
            return self._exists(conn, name)

    def _exists(self, conn: Any, name: str) -> bool:
        if self.dialect == "postgresql":
            row = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = %s",
                (name,),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
        return row is not None

    def _ident(self, conn: Any, name: str) -> str | None:
        """What identifies this table's current incarnation: its oid on PostgreSQL, its row
        count on SQLite (a count is cheap there) — so a table dropped, recreated or truncated by
        hand no longer matches its meta row."""
        if self.dialect == "postgresql":
            row = conn.execute(
                "SELECT c.oid::text FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relname = %s AND c.relkind IN ('r', 'p')",
                (name,),
            ).fetchone()
            return row[0] if row else None
        if not self._exists(conn, name):
            return None
        return str(conn.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0])

    def table_checksum(self, name: str) -> str | None:
        """The content hash recorded when the table was written; None when the table or its record
        is missing or the table is no longer the one written."""
        check_name(name)
        with self._connection(f"reading the checksum of {name}") as conn:
            if not self._exists(conn, META_TABLE):
                return None
            p = "%s" if self.dialect == "postgresql" else "?"
            row = conn.execute(
                f'SELECT "content_hash", "ident" FROM {_q(META_TABLE)} WHERE "name" = {p}', (name,)
            ).fetchone()
            if row is None:
                return None
            ident = self._ident(conn, name)
            if ident is None or ident != row[1]:
                return None
            return row[0]

    def _columns(self, conn: Any, name: str) -> dict[str, str]:
        if self.dialect == "postgresql":
            rows = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                (name,),
            ).fetchall()
        else:
            rows = [(r[1], r[2]) for r in conn.execute(f"PRAGMA table_info({_q(name)})").fetchall()]
        return {col: _logical(declared or "") for col, declared in rows}

    def read_table(
        self, name: str, columns: list[str] | None = None, where_split: str | None = None
    ) -> pd.DataFrame:
        """The table (or some columns, or one split) as a DataFrame with the dtypes it was written with."""
        check_name(name)
        with self._connection(f"reading table {name}") as conn:
            types = self._columns(conn, name)
            if not types:
                raise DatabaseError(f"{self.describe()}: table {name} does not exist")
            wanted = list(columns) if columns is not None else list(types)
            missing = [c for c in wanted if c not in types]
            if missing:
                raise DatabaseError(f"table {name} has no column {missing[0]!r}")
            if where_split is not None and "split" not in types:
                raise DatabaseError(f"table {name} has no split column")
            types = {c: types[c] for c in wanted}
            if self.dialect == "postgresql":
                frame = _pg_read(conn, name, types, where_split)
            else:
                frame = _sqlite_read(conn, name, types, where_split)
        return _coerce(frame, types)

    # --- writes ---------------------------------------------------------------------------------
    def replace_table(self, name: str, frame: pd.DataFrame, content_hash: str | None = None) -> int:
        """Replace the whole table with ``frame``, atomically; returns the rows written."""
        batches = (frame.iloc[i : i + _BATCH_ROWS] for i in range(0, max(len(frame), 1), _BATCH_ROWS))
        return self.replace_table_from_chunks(name, batches, content_hash)

    def replace_table_from_chunks(
        self, name: str, chunks: Iterable[pd.DataFrame], content_hash: str | None = None
    ) -> int:
        """Replace the whole table with the concatenation of ``chunks`` (streamed), atomically.

        If the iterator raises, the transaction is rolled back and the previous table stays.
        """
        check_name(name)
        iterator = iter(chunks)
        first = next(iterator, None)
        if first is None:
            raise ValueError(f"no data for table {name}: the chunk iterator was empty")
        schema = infer_schema(first)
        names = [c.name for c in schema]
        hasher = ContentHasher(schema)
        # The hash runs on one side thread (in chunk order) while the rows are encoded and sent:
        # sha256 and Arrow release the GIL, so it overlaps with the write.
        hashing: list[Future[None]] = []

        def prepared(pool: ThreadPoolExecutor) -> Iterator[pd.DataFrame]:
            for chunk in chain([first], iterator):
                if list(chunk.columns) != names:
                    raise ValueError(f"table {name}: every chunk must have the columns {names}")
                ready = normalise(chunk, schema)
                if content_hash is None:
                    if len(hashing) >= 2:
                        hashing[-2].result()  # at most two chunks held for hashing
                    hashing.append(pool.submit(hasher.update, ready))
                yield ready

        def digest() -> str:
            for done in hashing:
                done.result()
            return content_hash or hasher.hexdigest()

        replace = _pg_replace if self.dialect == "postgresql" else _sqlite_replace
        with self._connection(f"writing table {name}") as conn, ThreadPoolExecutor(1) as pool:
            self._ensure_meta(conn)
            return replace(conn, name, schema, prepared(pool), digest)

    def drop_table(self, name: str) -> None:
        """Drop a table and its meta row (tests and clean-up)."""
        check_name(name)
        with self._connection(f"dropping table {name}") as conn:
            self._ensure_meta(conn)
            p = "%s" if self.dialect == "postgresql" else "?"
            if self.dialect == "postgresql":
                with conn.transaction():
                    conn.execute(f"DROP TABLE IF EXISTS {_q(name)}")
                    conn.execute(f'DELETE FROM {_q(META_TABLE)} WHERE "name" = {p}', (name,))
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(f"DROP TABLE IF EXISTS {_q(name)}")
                    conn.execute(f'DELETE FROM {_q(META_TABLE)} WHERE "name" = {p}', (name,))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

    def _ensure_meta(self, conn: Any) -> None:
        if self._meta_ready:
            return
        ddl = (
            f"CREATE TABLE IF NOT EXISTS {_q(META_TABLE)} ("
            '"name" TEXT PRIMARY KEY, "content_hash" TEXT NOT NULL, "rows" BIGINT NOT NULL, '
            '"written_at" TIMESTAMP NOT NULL, "ident" TEXT)'
        )
        if self.dialect == "postgresql":
            with conn.transaction():
                # Concurrent CREATE TABLE IF NOT EXISTS can still collide; serialise it.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (META_TABLE,))
                conn.execute(ddl)
        else:
            conn.execute(ddl)
        self._meta_ready = True


# --- URLs ---------------------------------------------------------------------------------------
def normalise_url(url: str | URL) -> URL:
    """postgres:// and postgresql:// → postgresql+psycopg:// (psycopg 3); sqlite URLs as they are."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise DatabaseError(
            "the database URL is not valid: use postgresql://user:password@host:port/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise DatabaseError(f"unsupported database {backend!r}: use PostgreSQL (postgresql://...) or SQLite")


def resolve_url(configured: str | None, env: EnvSettings, sqlite_path: Path) -> URL:
    """The precedence of issue 2: config url, DATABASE_URL, the DB_* variables, embedded SQLite."""
    if configured:
        return normalise_url(configured)
    if env.database_url:
        return normalise_url(env.database_url)
    if env.db_host:
        port = env.db_port or "5432"
        if not str(port).isdigit():
            raise DatabaseError(f"DB_PORT must be a number, not {port!r}")
        return URL.create(
            "postgresql+psycopg",
            username=env.db_user or None,
            password=env.db_password or None,
            host=env.db_host,
            port=int(port),
            database=env.db_name or None,
        )
    return URL.create("sqlite", database=str(sqlite_path))


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
    # Rows come back in the order they were written: the table is append-only, so heap order is
    # write order, as long as the plan reads the heap in block order from the first block (no
    # synchronised scan starting mid-table, no index scan returning rows in key order).
    for setting in ("synchronize_seqscans", "enable_indexscan", "enable_indexonlyscan"):
        conn.execute(f"SET LOCAL {setting} = off")
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
