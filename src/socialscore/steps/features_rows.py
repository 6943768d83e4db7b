"""Where the streamed features step's rows come from: ordered chunks of ``block_rows`` rows (train
first, then test, each in id order, the train-split mitigations in place), the input hash and the
language profile beside them.

* :class:`TableRows` — the comments table read chunk by chunk (never the whole table), the
  augmentation rows slotted into the train chunks by id.
* :class:`FrameRows` — a whole comments frame (the negative-repeats mitigation copies train rows).

Both give exactly what ``steps.features.build_features`` would give for the same comments.
"""

from __future__ import annotations

import hashlib
import random
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from contextlib import closing
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialscore.errors import DataError
from socialscore.modeling.behaviour.mitigation import mitigate_train_split

if TYPE_CHECKING:
    from socialscore.storage.db.database import Database

TRAIN = "train"


LABEL_PREFIX = "label_"


def label_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(LABEL_PREFIX)]


def as_strings(column: pd.Series) -> pd.Series:
    """``column`` as strings; a column already holding Python strings is returned as it is (a copy
    of 1M comment texts costs ~0.4 GB; strings hash alike in the object and str dtypes)."""
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=False) == "string":
        return column
    return column.astype(str)


HASH_CHUNK_ROWS = 50_000  # rows hashed at a time: hashing 1M texts at once held ~1.2 GB more


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One uint64 per row of the hashed columns as strings (a row's hash depends on that row only)."""
    columns = ["id", "text", "split", *label_columns(frame)]
    parts = [np.empty(0, dtype=np.uint64)]
    for start in range(0, len(frame), HASH_CHUNK_ROWS):
        chunk = frame.iloc[start : start + HASH_CHUNK_ROWS]
        as_text = pd.DataFrame({c: as_strings(chunk[c]) for c in columns})
        parts.append(pd.util.hash_pandas_object(as_text, index=False).to_numpy())
    return np.concatenate(parts)


def input_hash(frame: pd.DataFrame) -> str:
    """A content hash of what the features depend on (ids, texts, labels, split), order-sensitive."""
    return hashlib.sha256(_row_hashes(frame).tobytes()).hexdigest()


def input_hash_by_id(frame: pd.DataFrame) -> str:
    """:func:`input_hash` of the rows in (stable) id order, without a sorted copy of the frame: a
    row's hash depends on that row alone, so the hashes are sorted instead of the rows."""
    return hash_in_id_order(frame["id"], _row_hashes(frame))


def hash_in_id_order(ids: pd.Series, row_hashes: np.ndarray) -> str:
    """The sha256 of ``row_hashes`` ordered by ``ids`` (stable: equal ids keep their order)."""
    order = ids.argsort(kind="stable").to_numpy()
    return hashlib.sha256(row_hashes[order].tobytes()).hexdigest()


NO_TRAIN_ROWS = "no rows in the train split; check transform.test_size and the input data"


def checked_labels(columns: list[str]) -> list[str]:
    """The label columns of a comments table with these columns; a DataError if it lacks any."""
    for column in ("id", "text", "split"):
        if column not in columns:
            raise DataError(f"the comments table has no {column!r} column; rerun the load step")
    labels = [c for c in columns if c.startswith(LABEL_PREFIX)]
    if not labels:
        raise DataError("the comments table has no label_<name> columns: nothing to train on")
    return labels


def label_values(rows: pd.DataFrame, labels: list[str]) -> np.ndarray:
    """The rows' labels as int8; a DataError if any is missing."""
    y = rows[labels]
    if y.isna().any().any():
        raise DataError(f"missing label values in {', '.join(c for c in labels if y[c].isna().any())}")
    return y.to_numpy().astype(np.int8)


def order_rows(comments: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The comments checked and ordered train first, then test (each in id order), + label columns."""
    labels = checked_labels(list(comments.columns))
    frame = comments.assign(_test=comments["split"].ne("train")).sort_values(["_test", "id"], kind="stable")
    if not (~frame["_test"]).any():
        raise DataError(NO_TRAIN_ROWS)
    label_values(frame, labels)
    return frame, labels


LANGUAGE_SAMPLE = 3000  # texts detected for the profile: shares to ~1%, at ~0.3 ms a text


def training_languages(comments: pd.DataFrame) -> dict[str, Any]:
    """The languages and scripts of the train split (a LanguageProfile's state, saved with the model)."""
    from socialscore.modeling.behaviour.language import LanguageProfile

    train = as_strings(comments.loc[comments["split"] == "train", "text"].fillna("")).tolist()
    return LanguageProfile.from_texts(train, sample=LANGUAGE_SAMPLE).to_state()




class FrameRows:
    """The rows of a whole comments frame (mitigations applied), ordered by ``order_rows``."""

    def __init__(self, comments: pd.DataFrame, read_seconds: float, block_rows: int) -> None:
        self.comments, self.read_seconds, self.block_rows = comments, read_seconds, block_rows
        self.frame, self.labels = order_rows(comments)
        self.n_train = int((~self.frame["_test"]).sum())

    def _slices(self, start: int, stop: int) -> Iterator[pd.DataFrame]:
        for first in range(start, stop, self.block_rows):
            yield self.frame.iloc[first : min(first + self.block_rows, stop)]

    def train(self) -> Iterator[pd.DataFrame]:
        return self._slices(0, self.n_train)

    def test(self) -> Iterator[pd.DataFrame]:
        return self._slices(self.n_train, len(self.frame))

    def input_hash(self) -> str:
        return input_hash_by_id(self.comments)

    def languages(self) -> dict[str, Any]:
        return training_languages(self.comments)


class TableRows:
    """The rows of the comments table, read in chunks: the train split in id order (with the
    augmentation rows), then the other rows in id order; the ids and row hashes are kept (not the
    texts) for the input hash. ``languages`` reads the train texts once more, in table order."""

    def __init__(self, db: Database, table: str, features: Any, block_rows: int) -> None:
        self.db, self.table, self.block_rows = db, table, block_rows
        self.labels = checked_labels(db.table_columns(table))
        self.columns = ["id", "text", "split", *self.labels]
        with closing(db.read_table_chunks(table, self.columns, chunk_rows=1)) as first:
            typed = next(first, pd.DataFrame(columns=self.columns)).iloc[:0]
        # what mitigate_train_split appends to the whole table (identity augmentation)
        self.extra = mitigate_train_split(typed, features).reset_index(drop=True)
        self.ids: list[pd.Series] = []  # Arrow strings: ~20 bytes an id, not ~70 as Python strings
        self.hashes: list[np.ndarray] = []
        self.n_train = 0  # train rows in the table (the extra rows not counted)
        self.read_seconds = 0.0

    def _read(self, **where: str) -> Iterator[pd.DataFrame]:
        chunks = self.db.read_table_chunks(self.table, self.columns, chunk_rows=self.block_rows, order_by="id", **where)
        while True:
            t0 = time.perf_counter()
            chunk = next(chunks, None)
            if chunk is not None:
                chunk["text"] = chunk["text"].astype(object)  # as read_comments: hashed alike
                self.ids.append(chunk["id"].astype(str))
                self.hashes.append(_row_hashes(chunk))
            self.read_seconds += time.perf_counter() - t0
            if chunk is None:
                return
            yield chunk

    def train(self) -> Iterator[pd.DataFrame]:
        def counted() -> Iterator[pd.DataFrame]:
            for chunk in self._read(where_split=TRAIN):
                self.n_train += len(chunk)
                yield chunk

        return rechunk(merge_by_id(counted(), self.extra), self.block_rows)

    def test(self) -> Iterator[pd.DataFrame]:
        return self._read(not_split=TRAIN)

    def input_hash(self) -> str:
        """``input_hash_by_id`` of the mitigated table: the table's rows, then the extra rows."""
        ids = pd.concat([*self.ids, self.extra["id"].astype(str)], ignore_index=True)
        return hash_in_id_order(ids, np.concatenate([*self.hashes, _row_hashes(self.extra)]))

    def languages(self) -> dict[str, Any]:
        """``training_languages`` of the mitigated table (call after ``train``): its sample is
        picked by position among the train rows in table order, then the extra rows."""
        from socialscore.modeling.behaviour.language import LanguageProfile

        n = self.n_train + len(self.extra)
        # LanguageProfile.from_texts's sample (seed 0): Random.sample picks positions by n alone
        positions = np.asarray(random.Random(0).sample(range(n), LANGUAGE_SAMPLE) if n > LANGUAGE_SAMPLE else range(n))
        chosen = np.empty(len(positions), dtype=object)
        start = 0
        table = self.db.read_table_chunks(self.table, ["text"], chunk_rows=self.block_rows, where_split=TRAIN)
        for texts in chain((c["text"].astype(object) for c in table), [self.extra["text"]]):
            hit = (positions >= start) & (positions < start + len(texts))
            if hit.any():
                chosen[hit] = as_strings(texts.fillna("")).to_numpy(dtype=object)[positions[hit] - start]
            start += len(texts)
        return LanguageProfile.from_texts(chosen.tolist(), sample=LANGUAGE_SAMPLE).to_state()


def merge_by_id(chunks: Iterable[pd.DataFrame], extra: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """Chunks in id order with ``extra``'s rows slotted in by id (code-point order, as pandas sorts
    Python strings; a chunk's row first on equal ids, as a stable sort of the table + extra)."""
    extra = extra.sort_values("id", kind="stable")
    ids = extra["id"].tolist()
    taken = 0
    for chunk in chunks:
        upto = bisect_right(ids, chunk["id"].iloc[-1], lo=taken)
        if upto > taken:
            both = pd.concat([chunk, extra.iloc[taken:upto]], ignore_index=True)
            chunk, taken = both.sort_values("id", kind="stable", ignore_index=True), upto
        yield chunk
    if taken < len(ids):
        yield extra.iloc[taken:]


def rechunk(frames: Iterable[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """``frames`` re-cut into frames of ``rows`` rows (the last one shorter)."""
    pending: list[pd.DataFrame] = []
    held = 0
    for frame in frames:
        pending.append(frame)
        held += len(frame)
        while held >= rows:
            whole = pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
            yield whole.iloc[:rows]
            pending, held = [whole.iloc[rows:]], held - rows
    if held:
        yield pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
