"""Label column names: any Unicode header becomes a safe ASCII identifier (the original is kept for
display), and two headers that become the same name are an error naming both."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from socialscore.errors import DataError

MAX_NAME = 40  # label_<name> must stay a valid column name on PostgreSQL (63) and SQLite


def sanitize_name(column: str) -> str:
    """``Toxic!`` → ``toxic``, ``toxicité`` → ``toxicite``, ``有毒`` → ``u_`` + a short hash."""
    folded = unicodedata.normalize("NFKD", column.strip())
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")
    digest = hashlib.sha1(column.strip().encode("utf-8")).hexdigest()[:8]
    if not name:
        return f"u_{digest}"
    if name[0].isdigit():
        name = f"l_{name}"
    if len(name) > MAX_NAME:
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def label_names(columns: Iterable[str], file_name: str) -> dict[str, str]:
    """{sanitised name: original column}; DataError when two columns share a sanitised name."""
    out: dict[str, str] = {}
    for column in columns:
        name = sanitize_name(column)
        if name in out and out[name] != column:
            raise DataError(
                f"{file_name}: label columns {out[name]!r} and {column!r} both become label {name!r}; "
                "rename one of them, or choose one with --label-column"
            )
        out[name] = column
    return out

