"""storage.parquet.iter_parquet: a parquet artifact in chunks, as the whole-file reader sees it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from socialscore.pipeline.artifacts import read_file_artifact, write_file_artifact
from socialscore.storage.parquet import iter_parquet, parquet_rows


def test_chunks_concatenate_to_the_whole_file(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(11)], "text": ["x", None] * 5 + ["ünï"], "n": range(11)})
    path = tmp_path / "a.parquet"
    write_file_artifact("parquet", path, frame)
    parts = list(iter_parquet(path, 4))
    assert [len(p) for p in parts] == [4, 4, 3]
    assert parts[1].index.tolist() == [4, 5, 6, 7]  # row numbers of the file
    pd.testing.assert_frame_equal(pd.concat(parts), read_file_artifact("parquet", path))
    assert parquet_rows(path) == 11


def test_a_file_without_rows_gives_one_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    write_file_artifact("parquet", path, pd.DataFrame({"id": pd.Series([], dtype=object), "n": []}))
    parts = list(iter_parquet(path, 4))
    assert len(parts) == 1 and len(parts[0]) == 0 and list(parts[0].columns) == ["id", "n"]


def test_parts_are_written_as_the_whole_frame(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(11)], "text": ["x", None] * 5 + ["ünï"], "n": range(11)})
    whole, parts = tmp_path / "whole.parquet", tmp_path / "parts.parquet"
    write_file_artifact("parquet", whole, frame)
    pieces = [frame.iloc[:4], frame.iloc[4:4], frame.iloc[4:11].reset_index(drop=True)]
    write_file_artifact("parquet", parts, iter(pieces))
    pd.testing.assert_frame_equal(read_file_artifact("parquet", parts), read_file_artifact("parquet", whole))
    assert pq.ParquetFile(parts).metadata.num_row_groups == 2  # one per non-empty part


def test_parts_all_empty_give_the_columns_and_nothing_gives_an_error(tmp_path: Path) -> None:
    empty = pd.DataFrame({"id": pd.Series([], dtype=object), "n": pd.Series([], dtype="int64")})
    path = tmp_path / "empty.parquet"
    write_file_artifact("parquet", path, iter([empty, empty]))
    assert parquet_rows(path) == 0 and pq.read_schema(path).names == ["id", "n"]
    with pytest.raises(ValueError, match="no parts"):
        write_file_artifact("parquet", tmp_path / "none.parquet", iter([]))
    assert not list(tmp_path.glob(".none.parquet*"))  # the atomic writer removed its temporary file
