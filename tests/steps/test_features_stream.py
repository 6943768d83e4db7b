"""The hashing features step streams the comments table: equal outputs to the whole-table path, on
SQLite and PostgreSQL, and never the whole table read at once."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from model_corpus import make_comments

from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.modeling.behaviour.mitigation import mitigate_train_split
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.pipeline.artifacts import write_file_artifact
from socialscore.pipeline.context import StepContext
from socialscore.steps import features as step
from socialscore.steps import features_rows as rows_module
from socialscore.storage.db.database import Database


def awkward_comments(n: int = 260) -> pd.DataFrame:
    """Comments whose ids sort differently by locale than by code point, with an id equal to an
    augmentation row's, a missing text, and splits other than train and test."""
    frame = make_comments(n, seed=9)
    odd = ["Zebra", "zebra", "ábc", "abd", "Ä1", "ß", "z~1", "漢字", "😀", "_x", "augment-00002", "10", "9"]
    frame.loc[: len(odd) - 1, "id"] = odd
    frame.loc[len(odd) :, "id"] = [f"{'éA'[i % 2]}{i:04d}" for i in range(len(odd), n)]
    frame.loc[3, "text"] = None
    frame.loc[5, "split"] = "valid"
    frame.loc[10, "split"] = "train"  # the id an augmentation row also has, in the train split
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # written in no id order


@pytest.fixture
def table(database: Database):
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    database.drop_table(name)


@pytest.mark.slow
@pytest.mark.parametrize("block_rows", [7, 64])
@pytest.mark.parametrize("augmentation", [0, 2])
def test_streamed_table_equals_the_whole_table_path(
    database: Database, table: str, tmp_path: Path, block_rows: int, augmentation: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows_module, "LANGUAGE_SAMPLE", 25)  # the sample is drawn from more rows than it keeps
    database.replace_table(table, awkward_comments())
    settings = SimpleNamespace(identity_augmentation=augmentation, negative_repeats=1)
    # today's whole-table path: read it all, mitigate, sort
    comments = database.read_table(table)
    comments["text"] = comments["text"].astype(object)
    comments = mitigate_train_split(comments, settings)
    whole = HashingFeaturizer(hash_bits=12, min_df=2)
    X, y, rows, meta = step.build_features(comments, whole)

    source = rows_module.TableRows(database, table, settings, block_rows)
    streamed = HashingFeaturizer(hash_bits=12, min_df=2)
    blocks, described = step.stream_features(source, streamed, tmp_path)
    parts = list(blocks)
    y2, rows2, meta2 = described()

    assert all(b.shape[0] <= block_rows for b in parts)
    assert (sp.vstack(parts, format="csr") != X).nnz == 0 and sum(b.nnz for b in parts) == X.nnz
    np.testing.assert_array_equal(y2, y)
    pd.testing.assert_frame_equal(rows2, rows)
    step.add_shape(meta2, sum(b.shape[0] for b in parts), parts[0].shape[1], sum(b.nnz for b in parts))
    meta.pop("seconds"), meta2.pop("seconds")
    assert meta2 == meta  # input_hash included
    assert source.languages() == step.training_languages(comments)
    assert streamed.name_samples_ == whole.name_samples_
    for ours, theirs in zip(streamed.idf_, whole.idf_, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.slow
def test_the_step_reads_the_table_in_chunks_only(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socialscore.modeling.training.out_of_core_blocks as blocks_module

    monkeypatch.setattr(blocks_module, "DEFAULT_BLOCK_ROWS", 32)
    settings = load_settings("dev", project_dir, overrides=[{"features": {"vectorizer": "hashing", "hash_bits": 12}}])
    layout = Layout(project_dir, "dev")
    db = Database.from_url(f"sqlite:///{layout.sqlite_path}")
    db.replace_table(layout.comments_table(), make_comments(150, seed=3))
    read: list[int] = []
    chunked = Database.read_table_chunks

    def spy(self, name, columns=None, **kwargs):
        for chunk in chunked(self, name, columns, **kwargs):
            read.append(len(chunk))
            yield chunk

    def whole_table(*args, **kwargs):
        raise AssertionError("the features step read the whole comments table")

    monkeypatch.setattr(Database, "read_table_chunks", spy)
    monkeypatch.setattr(Database, "read_table", whole_table)
    ctx = StepContext("features", settings, layout, logging.getLogger("test"), database_factory=lambda: db)
    step.run(ctx)
    assert read and max(read) <= 32
    monkeypatch.undo()
    # the artifacts equal the whole-table path's, the rows file byte for byte (ids were kept in chunks)
    comments = db.read_table(layout.comments_table())
    comments["text"] = comments["text"].astype(object)
    _, y, rows, meta = step.build_features(mitigate_train_split(comments, settings.features), HashingFeaturizer(hash_bits=12))
    write_file_artifact("parquet", project_dir / "expected_rows.parquet", rows)
    assert (project_dir / "expected_rows.parquet").read_bytes() == Path(ctx.location("rows")).read_bytes()
    np.testing.assert_array_equal(ctx.read("labels"), y)
    assert ctx.read("features_metadata")["input_hash"] == meta["input_hash"]
    db.close()
