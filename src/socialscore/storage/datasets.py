"""Reading comment CSVs in every supported format.

``read_table`` (``read_input`` with a DataConfig) turns a file into a table of strings without losing a
record: lossless decoding (socialscore.ingest.decoding), file-system checks and resource guards
(socialscore.ingest.guards), NUL removal, delimiter detection, records that cannot be parsed kept as
rows with an ``_error``; ``*.csv.gz`` and ``*.parquet`` are read directly. ``detect_schema`` says which columns hold the id,
the text and the labels.
(The synthetic example dataset is in storage/synthetic.py, sampling in storage/sampling.py.)
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from socialscore.errors import DataError
from socialscore.ingest.decoding import container_kind, plain_utf8
from socialscore.ingest.guards import check_header, read_input_bytes
from socialscore.storage.csvformat import ERROR_COLUMN, _clean_names, decode_bytes, detect_delimiter

if TYPE_CHECKING:
    from socialscore.config import DataConfig


# --- reading ------------------------------------------------------------------------------------
PARSE_CHUNK_ROWS = 50_000
@dataclass
class Table:
    """A CSV as strings: ``frame`` has the file's columns plus ``_error`` (None or why)."""

    path: Path
    frame: pd.DataFrame
    columns: list[str]
    delimiter: str
    notes: list[str] = field(default_factory=list)
    raw_records: dict[int, str] = field(default_factory=dict)  # row position → raw record (errors)


def _read_fast(data: bytes, sep: str) -> pd.DataFrame | None:
    """The pandas C parser on the UTF-8 text; None when the file needs the careful path.

    Parsed in chunks of ``PARSE_CHUNK_ROWS`` rows: the parser makes a Python string per field before
    pandas stores the column as Arrow strings, so only one chunk's fields are Python strings at once.
    """
    options = {"encoding": "utf-8", "sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False}
    try:
        reader = pd.read_csv(io.BytesIO(data), **options, engine="c", skip_blank_lines=True, chunksize=PARSE_CHUNK_ROWS)
        with reader:
            chunks = list(reader)
    except pd.errors.ParserError:
        return None
    if any(not isinstance(chunk.index, pd.RangeIndex) for chunk in chunks):
        return None  # every row had more fields than the header: pandas took column 1 as an index
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True) if chunks else pd.read_csv(io.BytesIO(data), **options, nrows=0)


_SEP_HINT = re.compile(r"sep=([,\t;|])\r?\n")
_VISIBLE = re.compile(rb"[!-~]")  # a file with one is not blank
UNBALANCED_QUOTE = "unbalanced quote (the records after it were recovered)"
TRUNCATED_QUOTE = "unterminated quoted field (truncated file?)"


def _records(text: str) -> list[tuple[int, str]]:
    """Physical lines as the csv module splits them: (1-based line number, line)."""
    return list(enumerate(io.StringIO(text, newline="").readlines(), start=1))


def _parse(text: str, sep: str) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) per non-empty record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    out = []
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return out
        if record:
            out.append((start, record))


def _ends_inside_quotes(text: str, sep: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _read_careful(
    text: str, sep: str
) -> tuple[list[str], list[list[str | None]], list[str | None], dict, list[str]]:
    """Record by record with the csv module: no record is dropped.

    A record with too many fields becomes an error row. A record whose quote never closes swallows the
    rest of the file; when the lines after its first line parse as ordinary records (a stray quote),
    they are recovered and only the first line is an error row; otherwise (a truncated file) the
    record is one error row.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    parsed = _parse(text, sep)
    if not parsed:
        return [], [], [], {}, []
    (_, header), body = parsed[0], parsed[1:]
    width = len(header)
    notes: list[str] = []
    unterminated: int | None = None
    unterminated_reason = TRUNCATED_QUOTE
    if body:
        lines = _records(text)
        last_start = body[-1][0]
        tail = "".join(line for _, line in lines[last_start - 1 :])
        if _ends_inside_quotes(tail, sep):
            rest = "".join(line for _, line in lines[last_start:])
            recovered = [fields for _, fields in _parse(rest, sep)]
            if recovered and 2 * sum(len(r) == width for r in recovered) >= len(recovered):
                first = lines[last_start - 1][1].rstrip("\r\n")
                body[-1] = (last_start, [first])
                body += [(0, r) for r in recovered]
                notes.append(
                    f"an unbalanced quote on line {last_start}: {len(recovered)} later record(s) recovered"
                )
                unterminated = len(body) - len(recovered) - 1
                unterminated_reason = UNBALANCED_QUOTE
            else:
                unterminated = len(body) - 1
                notes.append("the file ends inside a quoted field (truncated?)")
    rows: list[list[str | None]] = []
    errors: list[str | None] = []
    raw: dict[int, str] = {}
    for position, (_, record) in enumerate(body):
        if position == unterminated:
            raw[position] = sep.join(record)
            errors.append(unterminated_reason)
            rows.append([None] * width)
        elif len(record) > width:
            raw[position] = sep.join(record)
            errors.append(f"too many fields ({len(record)}, expected {width})")
            rows.append([None] * width)
        else:
            errors.append(None)
            rows.append(list(record) + [None] * (width - len(record)))
    return header, rows, errors, raw, notes


def read_input(path: Path, data_cfg: DataConfig) -> Table:
    """Read ``path`` exactly as the extract step does: ``data.delimiter``, ``data.encoding`` and the
    resource guards of ``data_cfg`` (predict should read its input with this too)."""
    return read_table(
        path,
        data_cfg.delimiter,
        encoding=data_cfg.encoding,
        max_file_mb=data_cfg.max_file_mb,
        max_columns=data_cfg.max_columns,
        max_line_chars=data_cfg.max_line_chars,
    )


def _read_parquet(path: Path, data: bytes) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path} cannot be read as Parquet: {str(exc).splitlines()[0][:200]}") from None
    frame = arrow.to_pandas()
    for column in frame.columns:
        values = frame[column].tolist()
        missing = frame[column].isna().tolist()
        frame[column] = pd.Series(
            [None if m else (v if isinstance(v, str) else str(v)) for v, m in zip(values, missing)],
            index=frame.index,
            dtype=object,
        )
    columns = _clean_names(list(frame.columns))
    frame.columns = columns
    if len(frame) == 0:
        raise DataError(f"data file {path} has no data rows")
    frame[ERROR_COLUMN] = None
    return Table(path, frame, columns, ",", [f"{path.name}: read as Parquet"])


def read_table(
    path: Path,
    delimiter: str | None = None,
    *,
    encoding: str | None = None,
    max_file_mb: int = 4096,
    max_columns: int = 1000,
    max_line_chars: int = 10_000_000,
) -> Table:
    """Read ``path`` into a table of strings; expected problems raise DataError with one line."""
    data = read_input_bytes(path, max_file_mb)
    if path.name.lower().endswith(".parquet"):
        return _read_parquet(path, data)
    container = container_kind(data[:4096])
    if container:
        what, todo = container
        raise DataError(f"data file {path} is {what}, not CSV text; {todo}")
    if encoding is None and _VISIBLE.search(data) and not data.startswith(b"sep=") and plain_utf8(data):
        # Decoding would give these very bytes as text: the parser reads them as they are (a str of
        # non-ASCII text takes 2-4 bytes a character) and the checks look at the bytes.
        end = data.find(b"\n")
        sep = delimiter or detect_delimiter((data if end == -1 else data[:end]).decode("utf-8"))
        check_header(data, sep, path.name, max_columns, max_line_chars)
        return _table_of(path, data, sep, [])
    decoded = decode_bytes(data, f"data file {path}", encoding)
    del data  # large inputs: each full copy of the file counts, so none is kept longer than needed
    text = decoded.text
    if not text or text.isspace():  # not strip(): that copies the text
        raise DataError(f"data file {path} is empty")
    if decoded.nul_chars > 0.05 * len(text) + 16:
        raise DataError(f"data file {path} looks binary, not like a CSV text file")
    decoded_notes, nul_chars = decoded.notes, decoded.nul_chars
    del decoded
    notes = []
    hint = _SEP_HINT.match(text)
    if hint:  # Excel's "sep=;" first line
        text = text[hint.end() :]
        delimiter = delimiter or hint.group(1)
        notes.append(f"{path.name}: used the spreadsheet hint line 'sep={hint.group(1)}'")
    sep = delimiter or detect_delimiter(text)
    check_header(text, sep, path.name, max_columns, max_line_chars)
    notes += [f"{path.name}: {note}" for note in decoded_notes]
    if nul_chars:
        notes.append(f"{path.name}: removed {nul_chars} NUL character(s)")
    # The parser reads UTF-8 bytes: a str of non-ASCII text takes 2-4 bytes per character.
    encoded = text.encode("utf-8")
    del text
    return _table_of(path, encoded, sep, notes)


def _table_of(path: Path, encoded: bytes, sep: str, notes: list[str]) -> Table:
    """The table of ``encoded``, the file's checked text as UTF-8; ``notes`` so far."""
    if sep != ",":
        notes.append(f"{path.name}: delimiter {sep!r}")
    frame = _read_fast(encoded, sep)
    raw: dict[int, str] = {}
    if frame is not None:
        del encoded
        columns = _clean_names(list(frame.columns))
        frame.columns = columns
        frame[ERROR_COLUMN] = None
    else:
        header, rows, errors, raw, careful_notes = _read_careful(encoded.decode("utf-8"), sep)
        columns = _clean_names(header)
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        frame[ERROR_COLUMN] = pd.Series(errors, dtype=object)
        notes += [f"{path.name}: {n}" for n in careful_notes]
        bad = sum(e is not None for e in errors)
        if bad:
            notes.append(
                f"{path.name}: {bad} record(s) could not be parsed (kept as rejected rows)"
            )
    if len(frame) == 0:
        raise DataError(f"data file {path} has a header but no data rows")
    notes += duplicate_columns_note(path, columns)
    return Table(path, frame, columns, sep, notes, raw)


def duplicate_columns_note(path: Path, columns: list[str]) -> list[str]:
    duplicated = sorted({c.rsplit(".", 1)[0] for c in columns if re.search(r"\.\d+$", c)} & set(columns))
    return [f"{path.name}: duplicate column name(s) {', '.join(duplicated)}; the first is used"] if duplicated else []


DAVIDSON_CLASSES = {"hate": {"0"}, "offensive": {"1"}, "toxic": {"0", "1"}}


def davidson_label(values: pd.Series, label: str) -> pd.Series:
    """class 0 hate / 1 offensive / 2 neither → "1"/"0"; anything else is kept raw (to be rejected)."""
    stripped = values.astype("string").str.strip()
    known = stripped.isin(["0", "1", "2"]).fillna(False)
    positive = stripped.isin(list(DAVIDSON_CLASSES[label])).fillna(False)
    out = values.astype(object).copy()
    out[known & positive] = "1"
    out[known & ~positive] = "0"
    return out

