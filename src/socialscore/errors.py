"""One exception family for expected failures: the CLI prints the message on one line and exits 1.

:func:`as_expected` turns the faults of the environment (a read-only or full disk, a path that is a
directory, a file that is not a database, input nested too deep) into the same one-line form; the
command line's entry point applies it to anything a command lets through.
"""

from __future__ import annotations

import errno


class SocialScoreError(Exception):
    """An expected failure (bad input, missing artifact, unreachable database) with a one-line message."""


class ConfigError(SocialScoreError):
    """The configuration is invalid; the message names the key."""


class DataError(SocialScoreError):
    """An input file cannot be used as it is."""


class MissingArtifactError(SocialScoreError):
    """A step's input does not exist yet; the message names the step to run first."""


class DatabaseError(SocialScoreError):
    """The database cannot be reached or used; the message never holds a password."""


class ModelError(SocialScoreError):
    """A model bundle is missing, corrupt or incompatible."""


class TamperedModelError(ModelError):
    """The files to serve differ from what the registry recorded for that version (the API answers 409)."""


class EnvironmentFault(SocialScoreError):
    """The machine refused: read-only or full disk, no permission, a directory where a file was expected."""


_OS_REASONS = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EMFILE: "too many open files",
}

# Depth past which nested input (config YAML, --set values, JSON) is refused before Python's own limit
MAX_NESTING = 64


def as_expected(exc: BaseException) -> SocialScoreError | None:
    """The one-line expected error a fault of the environment stands for (None: a real bug, let it show)."""
    if isinstance(exc, SocialScoreError):
        return exc
    if isinstance(exc, RecursionError):
        return ConfigError(f"the input is nested too deeply (more than Python's recursion limit; keep it under {MAX_NESTING} levels)")
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        if exc.filename is None:
            return EnvironmentFault(f"a file operation failed: {_OS_REASONS[exc.errno]}")
        return EnvironmentFault(f"cannot use {exc.filename}: {_OS_REASONS[exc.errno]}")
    database = _database_fault(exc)
    if database is not None:
        return database
    return None


def _database_fault(exc: BaseException) -> DatabaseError | None:
    import sqlite3

    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - sqlalchemy is a base dependency
        sa_exc = None
    original = exc.orig if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(original, sqlite3.DatabaseError):
        text = str(original)
        if "not a database" in text or "malformed" in text or "disk I/O" in text:
            return DatabaseError(f"the SQLite database is damaged or not a database ({text}); restore it from a backup or remove it and rerun")
        if "readonly" in text or "read-only" in text:
            return DatabaseError(f"the SQLite database cannot be written ({text}): the file or its directory is read-only")
        if "full" in text:
            return DatabaseError(f"the SQLite database cannot be written ({text}): no space left on the device")
        return DatabaseError(f"the SQLite database cannot be used: {text}")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError):
        return DatabaseError(f"the database cannot be used: {str(exc.orig).splitlines()[0] if exc.orig else exc}")
    return None
