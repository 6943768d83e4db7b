"""A plain UTF-8 CSV read in row chunks: the file's bytes and its whole table are never in memory.

``stream_csv`` gives the same rows as ``read_table``'s fast path (the pandas C parser on a file that
needs no decoding) for files that path takes; anything else (a ``*.gz`` or Parquet file, another
encoding, a NUL, a ``sep=`` line, a blank file) is ``None``, and a record the C parser refuses midway
raises ``NotStreamable``: the caller then reads the file whole with ``read_table``, whose careful
parser keeps every record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.errors import DataError
from socialscore.ingest.decoding import container_kind, plain_utf8
from socialscore.ingest.guards import check_header, check_input_size
from socialscore.storage.csvformat import ERROR_COLUMN, _clean_names, detect_delimiter
from socialscore.storage.datasets import PARSE_CHUNK_ROWS, _VISIBLE, duplicate_columns_note

if TYPE_CHECKING:
    import pandas as pd

    from socialscore.config import DataConfig

SEGMENT_BYTES = 16 << 20  # the checks read the file in pieces of about this size, cut at line ends


class NotStreamable(Exception):
    """The file needs ``read_table``'s whole-file reading."""


@dataclass
class StreamedCsv:
    path: Path
    columns: list[str]
    delimiter: str
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # counted while ``chunks`` runs

    def chunks(self, rows: int = PARSE_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """The file's rows as frames of ``rows`` rows (index = row position, ``_error`` None)."""
        import pandas as pd

        self.rows = 0
        try:
            with pd.read_csv(self.path, **_options(self.delimiter), skip_blank_lines=True, chunksize=rows) as reader:
                for frame in reader:
                    if not isinstance(frame.index, pd.RangeIndex):
                        raise NotStreamable("a row had more fields than the header")
                    frame.columns = self.columns
                    frame[ERROR_COLUMN] = None
                    self.rows += len(frame)
                    yield frame
        except pd.errors.ParserError as exc:
            raise NotStreamable(str(exc)) from None
        if not self.rows:
            raise NotStreamable("no data rows")  # read_table says so


def _options(sep: str) -> dict:
    return {"encoding": "utf-8", "sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False, "engine": "c"}


def _segments(path: Path) -> Iterator[bytes]:
    """The file in pieces of about ``SEGMENT_BYTES`` that end at a line end (or the file's end)."""
    with open(path, "rb") as handle:
        carry = b""
        while True:
            block = handle.read(SEGMENT_BYTES)
            if not block:
                if carry:
                    yield carry
                return
            data = carry + block
            end = data.rfind(b"\n")
            if end == -1:
                carry = data
                continue
            carry = data[end + 1 :]
            yield data[: end + 1]


def stream_csv(path: Path, data_cfg: DataConfig) -> StreamedCsv | None:
    """``path`` ready to be read in chunks, checked as ``read_input`` checks it (size, header, line
    lengths); None when ``read_input`` would decode it or read it another way."""
    import pandas as pd

    check_input_size(path, data_cfg.max_file_mb)
    if data_cfg.encoding is not None or path.name.lower().endswith((".parquet", ".gz")):
        return None
    sep, line, visible = data_cfg.delimiter, 1, False
    for number, segment in enumerate(_segments(path)):
        if not plain_utf8(segment) or (number == 0 and (container_kind(segment[:4096]) or segment.startswith(b"sep="))):
            return None
        if number == 0:
            end = segment.find(b"\n")
            sep = sep or detect_delimiter((segment if end == -1 else segment[:end]).decode("utf-8"))
        visible = visible or _VISIBLE.search(segment) is not None
        try:
            check_header(segment, sep, path.name, data_cfg.max_columns, data_cfg.max_line_chars, first_line=line)
        except DataError:
            return None  # read_table gives the error, after its own checks that come first
        line += segment.count(b"\n")
    if not visible:
        return None
    try:
        header = pd.read_csv(path, **_options(sep), nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    columns = _clean_names(list(header.columns))
    notes = [f"{path.name}: delimiter {sep!r}"] if sep != "," else []
    notes += duplicate_columns_note(path, columns)
    return StreamedCsv(path, columns, sep, notes)
