"""Table and column names, logical column types, and how each type is encoded on the wire."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from socialscore.errors import DatabaseError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


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


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
