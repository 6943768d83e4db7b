"""The out-of-core trainer's memory per training row: while the weight tables (its fixed peak) are
built it holds no per-row score arrays, and the folds are hashed from ids a slice at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from socialscore.config import load_settings
from socialscore.modeling.training import out_of_core, out_of_core_blocks, sgd_kernel
from socialscore.modeling.training.out_of_core_blocks import CsrBlocks, hash_folds
from socialscore.storage.csvformat import JIGSAW_LABELS


def test_no_per_row_scores_are_held_while_the_weight_tables_are_built(project_dir, monkeypatch) -> None:
    if not sgd_kernel.AVAILABLE:
        pytest.skip("the compiled trainer builds the tables")
    n = 60_000
    rng = np.random.default_rng(0)
    X = sp.random(n, 32, density=0.2, format="csr", random_state=1, dtype=np.float32)
    y = (rng.random((n, len(JIGSAW_LABELS))) < 0.3).astype(np.int8)
    ids = np.array([f"r{i}" for i in range(n)], dtype=object)
    cfg = load_settings("dev", project_dir, [{"model": {"epochs": 3}, "train": {"cv_max_rows": None}}])
    train = out_of_core.train_out_of_core
    train(CsrBlocks(X[:2_000], 500), ids[:2_000], y[:2_000], JIGSAW_LABELS, cfg)  # imports, compiled kernels
    held: list[int] = []
    real = out_of_core._table
    monkeypatch.setattr(out_of_core, "_table", lambda *a: held.append(tracemalloc.get_traced_memory()[0]) or real(*a))
    tracemalloc.start()
    try:
        model, report = train(CsrBlocks(X, 5_000), ids, y, JIGSAW_LABELS, cfg)
    finally:
        tracemalloc.stop()
    assert held and report["oof_proba"].shape == (n, len(model.labels))
    # labels (int8), folds (int16) and the CV mask: ~20 bytes a row; a float64 score per row and
    # label would be 8 × 7 more
    assert max(held) < 24 * n, max(held) / n


def test_folds_are_hashed_a_slice_at_a_time(monkeypatch) -> None:
    n = 200_000
    ids = pd.array([f"comment-{i:012d}" for i in range(n)], dtype="string[pyarrow]")
    whole = hash_folds(np.asarray(ids, dtype=object), 5)
    monkeypatch.setattr(out_of_core_blocks, "HASH_ROWS", 10_000, raising=False)
    tracemalloc.start()
    try:
        folds = hash_folds(ids, 5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(folds, whole)
    assert peak < 16 * n, peak / n  # the whole ids as a fixed-width array: 4 bytes a character, 80 a row
