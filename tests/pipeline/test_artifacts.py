"""Atomic writes: single files, directories and group commits survive a crash at any point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from socialscore.storage.atomic import (
    JOURNAL_NAME,
    atomic_group,
    atomic_path,
    recover,
    replace_dir_atomic,
)


def test_atomic_path_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_path_is_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.stat().st_mode & 0o777 == 0o644


def test_replace_dir_swaps_whole_directory(tmp_path: Path) -> None:
    target = tmp_path / "figs"
    replace_dir_atomic(target, lambda d: (d / "a.png").write_bytes(b"1"))
    replace_dir_atomic(target, lambda d: (d / "b.png").write_bytes(b"2"))
    assert sorted(p.name for p in target.iterdir()) == ["b.png"]


def test_group_replaces_all_files_together(tmp_path: Path) -> None:
    for name in ("model", "meta"):
        (tmp_path / name).write_text("v1")
    with atomic_group(tmp_path) as stage:
        stage("model").write_text("v2")
        stage("meta").write_text("v2")
    assert {(tmp_path / n).read_text() for n in ("model", "meta")} == {"v2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta", "model"]


def test_group_failure_before_commit_keeps_old_files(tmp_path: Path) -> None:
    for name in ("model", "meta"):
        (tmp_path / name).write_text("v1")
    with pytest.raises(RuntimeError):
        with atomic_group(tmp_path) as stage:
            stage("model").write_text("v2")
            raise RuntimeError("killed while writing meta")
    assert {(tmp_path / n).read_text() for n in ("model", "meta")} == {"v1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta", "model"]


def test_crash_between_renames_is_rolled_forward(tmp_path: Path) -> None:
    """The state a kill -9 leaves after the journal and the first rename: recover finishes it."""
    for name in ("model", "meta"):
        (tmp_path / name).write_text("v1")
    staged_meta = tmp_path / ".meta.x.staged"
    staged_meta.write_text("v2")
    (tmp_path / JOURNAL_NAME).write_text(json.dumps({"model": ".model.x.staged", "meta": staged_meta.name}))
    (tmp_path / "model").write_text("v2")  # the first rename happened; its staged file is gone
    assert recover(tmp_path) is True
    assert {(tmp_path / n).read_text() for n in ("model", "meta")} == {"v2"}
    assert not (tmp_path / JOURNAL_NAME).exists()
    assert recover(tmp_path) is False


def test_unfinished_group_is_recovered_before_the_next(tmp_path: Path) -> None:
    (tmp_path / ".a.staged").write_text("v2")
    (tmp_path / JOURNAL_NAME).write_text(json.dumps({"a": ".a.staged"}))
    with atomic_group(tmp_path) as stage:
        stage("b").write_text("b")
    assert (tmp_path / "a").read_text() == "v2"
    assert not any(p.name.endswith(".staged") for p in tmp_path.iterdir())
    assert os.listdir(tmp_path) and JOURNAL_NAME not in os.listdir(tmp_path)


def _matrix(rows: int, seed: int):
    import numpy as np
    import scipy.sparse as sp

    return sp.random(rows, 30, density=0.2, format="csr", dtype=np.float32, random_state=np.random.default_rng(seed))


def test_row_blocks_round_trip_and_a_crash_keeps_the_old_blocks(tmp_path: Path) -> None:
    from socialscore.modeling.training.out_of_core_blocks import NpzBlocks, gather
    from socialscore.pipeline.artifacts import read_file_artifact, write_file_artifact
    from socialscore.storage.digest import FileHasher

    target = tmp_path / "features_dev"
    first = _matrix(50, 1)
    write_file_artifact("blocks", target, first)
    blocks = read_file_artifact("blocks", target)
    assert isinstance(blocks, NpzBlocks) and blocks.shape == (50, 30) and blocks.nnz == first.nnz
    assert (gather(blocks) != first).nnz == 0
    fingerprint = FileHasher().path(target)

    def crashing():
        yield _matrix(10, 2)
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_file_artifact("blocks", target, crashing())
    assert (gather(read_file_artifact("blocks", target)) != first).nnz == 0
    assert FileHasher().path(target) == fingerprint
    assert [p.name for p in tmp_path.iterdir()] == ["features_dev"]  # no half-written sibling left

    second = _matrix(50, 3)
    write_file_artifact("blocks", target, (second[i : i + 20] for i in range(0, 50, 20)))
    again = read_file_artifact("blocks", target)
    assert again.starts == [0, 20, 40] and (gather(again) != second).nnz == 0
    assert FileHasher().path(target) != fingerprint
    assert (target / "blocks.json").stat().st_mode & 0o777 == 0o644
