"""File-system checks and resource guards: every failure is one DataError line that says what to do.

``check_input_file`` turns missing files, directories, symlink loops, permission problems and special
files into one-line errors; ``read_input_bytes`` enforces the size guard and reads ``*.gz``;
``check_header`` enforces the column-count and line-length guards before any parsing.
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
from pathlib import Path

from socialscore.errors import DataError

MB = 1024 * 1024


def describe_os_error(exc: OSError, path: Path | str, action: str = "read") -> str:
    """One line for an OSError, with what to do about it."""
    code = exc.errno
    if code == errno.ENOENT:
        return f"data file not found: {path}"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: cannot {action} {path}; check its permissions (chmod/chown) or run as its owner"
    if code == errno.ELOOP:
        return f"{path} is a symlink loop (the link points back at itself); point --data at the real file"
    if code == errno.EISDIR:
        return f"{path} is a directory, not a CSV file; pass the file inside it"
    if code == errno.ENOSPC:
        return f"no space left on the device while trying to {action} {path}; free disk space and rerun"
    if code == errno.EDQUOT:
        return f"disk quota exceeded while trying to {action} {path}; free space and rerun"
    if code == errno.EROFS:
        return f"cannot {action} {path}: the file system is read-only"
    return f"cannot {action} {path}: {exc.strerror or exc}"


def check_input_file(path: Path) -> os.stat_result:
    """``path``'s stat when it is a readable regular file; else DataError with the precise reason."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            raise DataError(f"{path} is a broken symlink (its target does not exist)") from None
        raise DataError(describe_os_error(exc, path)) from None
    except RuntimeError:  # pathlib reports some loops this way
        raise DataError(describe_os_error(OSError(errno.ELOOP, "loop"), path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(describe_os_error(OSError(errno.EISDIR, "is a directory"), path))
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path} is not a regular file (a pipe, socket or device); copy the data into a file")
    if not os.access(path, os.R_OK):
        raise DataError(describe_os_error(OSError(errno.EACCES, "denied"), path))
    return info


def check_input_size(path: Path, max_file_mb: int) -> str:
    """Refuse a file that is not a readable regular file or is over ``max_file_mb`` MiB on disk;
    returns the message for one that decompresses to over the limit."""
    info = check_input_file(path)
    too_big = (
        f"{path} is over the size limit of {max_file_mb} MiB (data.max_file_mb); raise the limit with "
        f"--set data.max_file_mb=N or split the file"
    )
    if info.st_size > max_file_mb * MB:
        raise DataError(too_big.replace(" is over", f" ({info.st_size / MB:,.0f} MiB) is over"))
    return too_big


def read_input_bytes(path: Path, max_file_mb: int) -> bytes:
    """The file's bytes (decompressed for ``*.gz``), refusing more than ``max_file_mb`` MiB."""
    too_big = check_input_size(path, max_file_mb)
    limit = max_file_mb * MB
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                data = handle.read(limit + 1)  # bounded: a gzip bomb stops at the limit
            if len(data) > limit:
                raise DataError(too_big.replace(" is over", " decompresses to over"))
            return data
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        if isinstance(exc, gzip.BadGzipFile) or isinstance(exc, EOFError):
            raise DataError(f"{path} is not a complete gzip file ({exc}); re-create it") from None
        raise DataError(describe_os_error(exc, path)) from None


def check_header(
    text: str | bytes, sep: str, name: str, max_columns: int, max_line_chars: int, first_line: int = 1
) -> None:
    """Fail fast on a header with too many columns or a physical line over ``max_line_chars``.

    ``text`` may be UTF-8 bytes: a line longer in bytes is then measured again in characters. With
    ``first_line`` above 1, ``text`` is a later piece of a file cut at a line end: no header in it.
    """
    newline: str | bytes = "\n"
    if isinstance(text, bytes):
        newline, sep = b"\n", sep.encode()  # type: ignore[assignment]
    end = text.find(newline)  # type: ignore[arg-type]
    header_len = len(text) if end == -1 else end
    columns = text.count(sep, 0, header_len) + 1  # type: ignore[arg-type]
    if columns > max_columns and first_line == 1:
        raise DataError(
            f"{name}: the header has {columns:,} columns, over "
            f"the limit of {max_columns:,} (data.max_columns); check the delimiter, or raise the limit "
            "with --set data.max_columns=N"
        )
    longest, start = 0, 0
    while True:  # str.find runs in C: a 1 GB file is scanned in about a second
        end = text.find(newline, start)  # type: ignore[arg-type]
        stop = len(text) if end == -1 else end
        over = stop - start > max_line_chars
        if over and isinstance(text, bytes):
            over = len(text[start:stop].decode("utf-8")) > max_line_chars
        if over:
            line = text.count(newline, 0, start) + first_line  # type: ignore[arg-type]
            raise DataError(
                f"{name}: line {line} has over {max_line_chars:,} characters (data.max_line_chars); "
                "is this a CSV file? Raise the limit with --set data.max_line_chars=N if it is"
            )
        longest = max(longest, stop - start)
        if end == -1:
            return
        start = end + 1
