"""The train step's row selection: a view when the train rows lead, a copy otherwise; same rows either way."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from socialscore.steps.train import train_rows


def features() -> sp.csr_matrix:
    return sp.random(50, 12, density=0.3, format="csr", dtype=np.float32, random_state=3)


def test_leading_train_rows_are_a_view_of_the_features() -> None:
    X = features()
    train = np.arange(50) < 40
    out = train_rows(X, train)
    assert out.shape == (40, 12) and (out != X[:40]).nnz == 0
    assert np.shares_memory(out.data, X.data) and np.shares_memory(out.indices, X.indices)


def test_train_rows_anywhere_else_are_selected_by_the_mask() -> None:
    X = features()
    train = np.arange(50) % 4 != 0
    out = train_rows(X, train)
    assert (out != X[train]).nnz == 0 and out.shape == (int(train.sum()), 12)
    assert not np.shares_memory(out.data, X.data)


def test_no_train_rows_and_all_train_rows() -> None:
    X = features()
    assert train_rows(X, np.zeros(50, bool)).shape == (0, 12)
    assert (train_rows(X, np.ones(50, bool)) != X).nnz == 0
