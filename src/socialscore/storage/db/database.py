"""The database: engine from settings, atomic whole-table replace, fast reads (names and types in
schema.py, the per-backend writers in sqlite.py and postgres.py, the URL in url.py).

The only package that builds SQL. A table is always replaced whole inside ONE transaction: a staging
table is created and filled (COPY through psycopg 3 on PostgreSQL, one ``executemany`` on SQLite),
then the old table is dropped, the staging table renamed in and the meta row in ``socialscore_tables``
updated. A crash at any point rolls the whole transaction back, so readers always see the previous
complete table or the new complete one, and no staging table is left behind.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from socialscore.errors import DatabaseError
from socialscore.storage.db.content_hash import ContentHasher
from socialscore.storage.db.postgres import _pg_read, _pg_read_chunks, _pg_replace
from socialscore.storage.db.schema import (
    _BATCH_ROWS,
    META_TABLE,
    _coerce,
    _logical,
    _q,
    check_name,
    infer_schema,
    normalise,
)
from socialscore.storage.db.sqlite import (
    _sqlite_on_connect,
    _sqlite_read,
    _sqlite_read_chunks,
    _sqlite_replace,
)
from socialscore.storage.db.url import normalise_url, resolve_url

if TYPE_CHECKING:
    import pandas as pd

    from socialscore.config import Settings
    from socialscore.layout import Layout


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a driver call may raise. psycopg is imported by SQLAlchemy only for a PostgreSQL
    engine (importing it costs a SQLite run ~0.2 s), so its errors are caught only once it is loaded."""
    psycopg = sys.modules.get("psycopg")
    return (SQLAlchemyError, sqlite3.Error, psycopg.Error) if psycopg else (SQLAlchemyError, sqlite3.Error)


def _first_line(exc: BaseException) -> str:
    """The primary message only: a server's DETAIL/CONTEXT lines may quote row data."""
    original = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(original)
    return (text.strip().splitlines() or [exc.__class__.__name__])[0].strip()


# --- the database -------------------------------------------------------------------------------
def postgres_connection_problem(url: Any, reason: str) -> str:
    """What to say when PostgreSQL refuses a connection: a missing database is not a stopped server."""
    host, port, name = url.host or "localhost", url.port or 5432, url.database
    if f'database "{name}" does not exist' in reason:
        return (f"PostgreSQL at {host}:{port} is up but has no database {name!r}: create it "
                f"(createdb -h {host} -p {port} {name}) or fix the database name in DATABASE_URL / DB_NAME")
    return (f"cannot connect to PostgreSQL at {host}:{port} (database {name!r}): {reason}"
            " — start the server or check DATABASE_URL / DB_HOST, DB_PORT")


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
        return DatabaseError(postgres_connection_problem(self.url, reason))

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
        except (*_driver_errors(), OSError) as exc:
            raise self._unreachable(exc) from None
        try:
            conn = fairy.driver_connection
            if self.dialect == "postgresql" and not conn.autocommit and conn.info.transaction_status:
                conn.rollback()  # start from a clean slate: transaction() must be the outermost block
            yield conn
        except DatabaseError:
            raise
        except _driver_errors() as exc:
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

    def table_columns(self, name: str) -> list[str]:
        """The table's column names (in order); empty when the table does not exist."""
        check_name(name)
        with self._connection(f"reading the columns of {name}") as conn:
            return list(self._columns(conn, name))

    def _wanted(self, conn: Any, name: str, columns: list[str] | None, split: bool) -> dict[str, str]:
        types = self._columns(conn, name)
        if not types:
            raise DatabaseError(f"{self.describe()}: table {name} does not exist")
        wanted = list(columns) if columns is not None else list(types)
        missing = [c for c in wanted if c not in types]
        if missing:
            raise DatabaseError(f"table {name} has no column {missing[0]!r}")
        if split and "split" not in types:
            raise DatabaseError(f"table {name} has no split column")
        return {c: types[c] for c in wanted}

    def read_table(
        self, name: str, columns: list[str] | None = None, where_split: str | None = None
    ) -> pd.DataFrame:
        """The table (or some columns, or one split) as a DataFrame with the dtypes it was written with."""
        check_name(name)
        with self._connection(f"reading table {name}") as conn:
            types = self._wanted(conn, name, columns, where_split is not None)
            if self.dialect == "postgresql":
                frame = _pg_read(conn, name, types, where_split)
            else:
                frame = _sqlite_read(conn, name, types, where_split)
        return _coerce(frame, types)

    def read_table_chunks(
        self,
        name: str,
        columns: list[str] | None = None,
        *,
        chunk_rows: int,
        where_split: str | None = None,
        not_split: str | None = None,
        order_by: str | None = None,
    ) -> Iterator[pd.DataFrame]:
        """The table as DataFrames of at most ``chunk_rows`` rows (dtypes as :meth:`read_table`'s),
        never the whole table at once: a server-side cursor on PostgreSQL, ``fetchmany`` on SQLite.

        ``where_split``: only rows of that split; ``not_split``: only rows of any other split (or
        none). ``order_by``: a column, in code-point order of its text (``COLLATE "C"`` on
        PostgreSQL, SQLite's byte order), as Python sorts strings; else the order written.
        """
        check_name(name)
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        with self._connection(f"reading table {name}") as conn:
            split = where_split is not None or not_split is not None
            types = self._wanted(conn, name, columns, split)
            if order_by is not None and order_by not in self._columns(conn, name):
                raise DatabaseError(f"table {name} has no column {order_by!r}")
            read = _pg_read_chunks if self.dialect == "postgresql" else _sqlite_read_chunks
            for frame in read(conn, name, types, chunk_rows, (where_split, not_split), order_by):
                yield _coerce(frame, types)

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
