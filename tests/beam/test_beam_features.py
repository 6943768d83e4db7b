"""Beam features equal the local engine's: same rows, same idf, blocks in the NpzBlockWriter format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

beam = pytest.importorskip("apache_beam")  # in the dev group, so CI has it; SOCIALSCORE_NO_SKIP fails a skip

from socialscore.beam.features import build_feature_blocks
from socialscore.errors import ConfigError
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.modeling.training.out_of_core_blocks import NpzBlocks
from socialscore.steps.features import build_features
from socialscore.storage.synthetic import generate_example


def comments(n: int = 1500) -> pd.DataFrame:
    example = generate_example(n, seed=11)
    frame = pd.DataFrame({"id": example["id"].astype(str), "text": example["comment_text"]})
    for label in example.columns[2:]:
        frame["label_" + label] = example[label].astype(int)
    frame["split"] = np.where(np.arange(n) % 5 == 0, "test", "train")
    frame.loc[7, "text"] = None  # a missing text is an empty one, in both engines
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # order_rows sorts them back


def featurizer() -> HashingFeaturizer:
    return HashingFeaturizer(hash_bits=16, min_df=2, compiled=False)


def assert_same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    a, b = a.tocsr(), b.tocsr()
    a.sort_indices()
    b.sort_indices()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # exact: the same functions on the same texts


@pytest.mark.slow
@pytest.mark.parametrize("chunk_rows", [97, 100_000])
def test_beam_features_equal_local(tmp_path: Path, chunk_rows: int) -> None:
    data = comments()
    local_builder, beam_builder = featurizer(), featurizer()
    x_local, y_local, rows_local, meta_local = build_features(data, local_builder)
    blocks_dir = tmp_path / "blocks"
    y_beam, rows_beam, meta_beam = build_feature_blocks(data, beam_builder, str(blocks_dir), chunk_rows=chunk_rows)
    np.testing.assert_array_equal(y_beam, y_local)
    pd.testing.assert_frame_equal(rows_beam, rows_local)
    for kind_local, kind_beam in zip(local_builder.idf_, beam_builder.idf_, strict=True):
        np.testing.assert_array_equal(kind_beam, kind_local)
    np.testing.assert_array_equal(beam_builder.eng_scale_, local_builder.eng_scale_)
    assert beam_builder.n_train_docs_ == local_builder.n_train_docs_ == 1200
    assert beam_builder.name_samples_ == local_builder.name_samples_
    meta_local.pop("seconds"), meta_beam.pop("seconds")
    assert meta_beam == meta_local
    # the blocks are NpzBlockWriter's format: the out-of-core trainer's reader takes the directory
    blocks = NpzBlocks(blocks_dir)
    assert blocks.n_rows == x_local.shape[0] and blocks.n_features == x_local.shape[1]
    assert len(blocks.starts) == (1200 + chunk_rows - 1) // chunk_rows + (300 + chunk_rows - 1) // chunk_rows
    assert_same_csr(sp.vstack([b for _, b in blocks], format="csr"), x_local)
    assert blocks.nnz == x_local.nnz and sum(blocks.block_nnz) == x_local.nnz  # gather fills in place


@pytest.mark.slow
def test_fitted_featurizers_transform_new_texts_alike(tmp_path: Path) -> None:
    data = comments(600)
    local_builder, beam_builder = featurizer(), featurizer()
    build_features(data, local_builder)
    build_feature_blocks(data, beam_builder, str(tmp_path / "blocks"), chunk_rows=128)
    fresh = ["a brand new comment, you idiot", "", "tout à fait d'accord"]
    assert_same_csr(beam_builder.transform(fresh), local_builder.transform(fresh))


def test_vocabulary_featurizer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="features.vectorizer: hashing"):
        build_feature_blocks(comments(100), FeatureBuilder(), str(tmp_path / "blocks"))


def test_counting_pass_merges_like_one_pass() -> None:
    """Workers' partial statistics merge into the statistics of all their texts (FnApiRunner on one
    worker may never call merge_accumulators, so it is checked here directly)."""
    from socialscore.beam.features import CountStatistics, prepared_featurizer

    texts = comments(300)["text"].fillna("").tolist()
    combine = CountStatistics(prepared_featurizer(featurizer()))
    whole = combine.add_input(combine.create_accumulator(), texts)
    parts = [combine.add_input(combine.create_accumulator(), texts[i : i + 70]) for i in range(0, 300, 70)]
    merged = combine.extract_output(combine.merge_accumulators(parts))
    assert merged.n_docs == whole.n_docs == 300
    for df_merged, df_whole in zip(merged.df, whole.df, strict=True):
        np.testing.assert_array_equal(df_merged, df_whole)
    np.testing.assert_array_equal(merged.eng_peak, whole.eng_peak)
