"""CSV formats without pandas: decoding, delimiter and header sniffing, schema detection.

Kept free of pandas/numpy so that resolving a step's source files (which the step cache does on
every run, cached or not) stays cheap. ``datasets.py`` builds on it to read whole tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from socialscore.errors import DataError
from socialscore.ingest.columns import label_names, sanitize_name
from socialscore.ingest.decoding import Decoded, decode_bytes

JIGSAW_LABELS: tuple[str, ...] = (
    "toxic",
    "severe_toxic",
    "obscene",
    "threat",
    "insult",
    "identity_hate",
)
KNOWN_LABELS: tuple[str, ...] = JIGSAW_LABELS + ("hate", "offensive")
# the labels derived from the Davidson et al. tweets' `class` (0 hate, 1 offensive, 2 neither)
DAVIDSON_LABELS: tuple[str, ...] = ("hate", "offensive", "toxic")
TEXT_CANDIDATES: tuple[str, ...] = (
    "comment_text",
    "anonymized_comment",
    "text",
    "tweet",
    "comment",
    "body",
    "message",
    "content",
)
ID_CANDIDATES: tuple[str, ...] = ("id", "comment_id", "rev_id", "tweet_id", "unnamed: 0")
DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
ERROR_COLUMN = "_error"


class UnlabelledError(DataError):
    """The file has a text column but no label column."""


# --- decoding: socialscore.ingest.decoding (Decoded and decode_bytes are re-exported from here) ---
_REEXPORTED = (Decoded, decode_bytes)


# --- header ------------------------------------------------------------------------------------
def detect_delimiter(text: str) -> str:
    """The most frequent of , TAB ; | in the header line (comma on a tie or none)."""
    end = text.find("\n")
    header = text if end == -1 else text[:end]  # not split(): that copies the whole rest of the file
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _clean_names(names: Sequence[object]) -> list[str]:
    """Strip names, name blanks ``Unnamed: i`` and suffix duplicates ``.1``, ``.2`` (pandas style)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        base = str(name).strip().lstrip("\ufeff") if name is not None else ""
        if not base or base.startswith("Unnamed: "):
            base = f"Unnamed: {i}"
        candidate = base
        while candidate in seen:
            seen[base] += 1
            candidate = f"{base}.{seen[base]}"
        seen.setdefault(candidate, 0)
        out.append(candidate)
    return out


def read_header(
    path: Path, delimiter: str | None = None, limit: int = 1 << 16, encoding: str | None = None
) -> list[str]:
    """The column names only, from the first ``limit`` bytes (cheap: for source resolution)."""
    with open(path, "rb") as handle:
        data = handle.read(limit)
    if len(data) == limit and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]  # no multi-byte character cut in two
    head = decode_bytes(data, path.name, encoding).text
    if not head.strip():
        return []
    sep = delimiter or detect_delimiter(head)
    first = next(csv.reader(io.StringIO(head.split("\n", 1)[0]), delimiter=sep), [])
    return _clean_names(first)


# --- schema -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schema:
    """Which column holds what. ``labels`` maps label name → source column (``class`` for Davidson)."""

    kind: str
    text_column: str
    id_column: str | None
    labels: dict[str, str]

    @property
    def davidson(self) -> bool:
        return self.kind == "davidson"


def label_name(column: str) -> str:
    """The label's internal name: ASCII letters, digits and _ (``toxicité`` → ``toxicite``)."""
    return sanitize_name(column)


def _find(columns: Sequence[str], wanted: str) -> str | None:
    lowered = {c.lower(): c for c in reversed(columns)}
    return wanted if wanted in columns else lowered.get(wanted.lower())


def detect_schema(
    columns: Sequence[str],
    name: str,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    id_column: str | None = None,
) -> Schema:
    """Find the text, id and label columns; configured names win over detection."""
    listing = ", ".join(repr(c) for c in columns)

    def require(col: str, what: str) -> str:
        found = _find(columns, col)
        if found is None:
            raise DataError(
                f"{name}: configured {what} {col!r} not found; the columns are {listing}"
            )
        return found

    davidson = _find(columns, "tweet") is not None and _find(columns, "class") is not None
    if text_column:
        text = require(text_column, "text column")
    else:
        text = next((c for c in (_find(columns, t) for t in TEXT_CANDIDATES) if c), None)
        if text is None:
            raise DataError(
                f"{name}: no text column found (looked for {', '.join(TEXT_CANDIDATES)}); "
                f"the columns are {listing}; set --text-column"
            )
    if id_column:
        ident: str | None = require(id_column, "id column")
    else:
        ident = next((c for c in (_find(columns, t) for t in ID_CANDIDATES) if c), None)
    kind = "configured"
    davidson = davidson and text == _find(columns, "tweet")
    derived = [c for c in label_columns or () if c.lower() in DAVIDSON_LABELS and _find(columns, c) is None]
    if davidson and label_columns and len(derived) == len(label_columns):
        labels = {c.lower(): "class" for c in derived}  # `--label-column offensive`: derived from `class`
        kind = "davidson"
    elif label_columns:
        chosen = [require(c, "label column") for c in label_columns]
        labels = label_names(chosen, name)
    elif davidson:
        labels = {lab: "class" for lab in DAVIDSON_LABELS}
        kind = "davidson"
    else:
        labels = {lab: c for lab in KNOWN_LABELS if (c := _find(columns, lab)) is not None}
        if not labels and (c := _find(columns, "label")) is not None:
            labels = {"toxic": c}
            kind = "text,label"
        elif labels:
            kind = "jigsaw" if set(labels) <= set(JIGSAW_LABELS) else "labelled"
    for column in labels.values():
        clash = [c for c in columns if c != column and label_name(c) == label_name(column)]
        if clash and kind != "configured":
            raise DataError(
                f"{name}: columns {column!r} and {clash[0]!r} both become label {label_name(column)!r}; "
                "rename one of them, or choose one with --label-column"
            )
    if text in labels.values():
        raise DataError(f"{name}: column {text!r} cannot be both the text and a label")
    return Schema(kind, text, ident, labels)
