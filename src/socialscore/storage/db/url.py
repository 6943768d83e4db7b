"""The database URL: from the config, the environment (DATABASE_URL) or the project's SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from socialscore.errors import DatabaseError

if TYPE_CHECKING:
    from socialscore.settings.env import EnvSettings


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
