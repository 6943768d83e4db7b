"""pipeline.artifacts.iter_parquet: a parquet artifact in chunks, as the whole-file reader sees it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from socialscore.pipeline.artifacts import (
    iter_parquet,
    parquet_rows,
    read_file_artifact,
    write_file_artifact,
)


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
