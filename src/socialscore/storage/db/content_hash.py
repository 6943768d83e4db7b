"""A table's content checksum, computed from its typed columns (the same on every backend)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from socialscore.storage.db.schema import (
    Column,
    _arrow_text,
    _fixed_values,
    infer_schema,
    normalise,
)

if TYPE_CHECKING:
    import pandas as pd


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
