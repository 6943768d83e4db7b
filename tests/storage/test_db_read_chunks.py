"""Database.read_table_chunks: the table in bounded chunks, in the order asked for, on both databases."""

from __future__ import annotations

import pandas as pd
import pytest

from socialscore.errors import DatabaseError
from socialscore.storage.db.database import Database

# ids whose code-point order differs from a locale's order (case, accents, symbols, CJK, emoji)
IDS = ["b", "B", "a", "á", "Z", "z~1", "z", "zz", "é", "e", "10", "9", "_x", "漢", "😀", "ß", "ä", "A-1", "a-1"]


def frame() -> pd.DataFrame:
    n = len(IDS)
    return pd.DataFrame({
        "id": IDS,
        "text": [f"text {i} ü" for i in range(n)],
        "split": [["train", "test", "train", None, "valid"][i % 5] for i in range(n)],
        "label_toxic": pd.array([i % 2 for i in range(n)], dtype="int16"),
    })


def test_chunks_in_code_point_order_of_ids_per_split(db: Database, table: str) -> None:
    db.replace_table(table, frame())
    whole = db.read_table(table, ["id", "text", "split", "label_toxic"])
    for split, kwargs in (("train", {"where_split": "train"}), ("other", {"not_split": "train"})):
        chunks = list(db.read_table_chunks(table, ["id", "text", "split", "label_toxic"], chunk_rows=3, order_by="id", **kwargs))
        assert chunks and all(len(c) <= 3 for c in chunks)
        got = pd.concat(chunks, ignore_index=True)
        wanted = whole[(whole["split"] == "train") == (split == "train")]
        expected = wanted.iloc[sorted(range(len(wanted)), key=lambda i: wanted["id"].iloc[i])].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected)  # Python's string order, the dtypes of read_table


def test_chunks_without_an_order_come_in_the_order_written(db: Database, table: str) -> None:
    db.replace_table(table, frame())
    chunks = list(db.read_table_chunks(table, ["id", "text"], chunk_rows=4))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 3]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), db.read_table(table, ["id", "text"]))
    train = pd.concat(db.read_table_chunks(table, ["text"], chunk_rows=2, where_split="train"), ignore_index=True)
    pd.testing.assert_frame_equal(train, db.read_table(table, ["text"], where_split="train"))


def test_chunked_reads_refuse_unknown_columns(db: Database, table: str) -> None:
    db.replace_table(table, frame())
    with pytest.raises(DatabaseError, match="no column"):
        list(db.read_table_chunks(table, ["id", "nope"], chunk_rows=2))
    with pytest.raises(DatabaseError, match="no column"):
        list(db.read_table_chunks(table, ["id"], chunk_rows=2, order_by="nope"))
    assert db.table_columns(table) == ["id", "text", "split", "label_toxic"]
