"""NB-weighted logistic regression fitted on a fold's rows: the textbook NB-LR on exactly those rows."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from socialscore.modeling.training import estimators as models
from socialscore.modeling.training.estimators import NBLogistic, logistic_estimator

PARAMS = {"alpha": 3e-5, "epochs": 10, "nb_alpha": 1.0, "random_state": 0}


def reference(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """NB-LR from its definition (Wang & Manning), on dense rows."""
    p = 1.0 + X[y == 1].sum(axis=0)
    q = 1.0 + X[y == 0].sum(axis=0)
    r = np.log((p / p.sum()) / (q / q.sum()))
    lr = logistic_estimator(PARAMS, *X.shape).fit(sp.csr_matrix(X * r), y)
    return lr.coef_.ravel() * r, float(lr.intercept_[0])


@pytest.fixture
def data() -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(1)
    X = sp.random(300, 40, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    y = (X[:, :5].sum(axis=1).A1 + rng.normal(0, 0.2, 300) > 0.5).astype(int)
    X.sort_indices()
    return X, y


@pytest.mark.parametrize("chunk_rows", [2048, 7])  # one gather chunk, and many (the last one partial)
def test_fit_rows_is_nb_lr_on_those_rows(data, monkeypatch, chunk_rows: int) -> None:
    X, y = data
    monkeypatch.setattr(models, "_CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(models, "_CHUNK_NNZ", 50)
    rows = np.flatnonzero(np.arange(300) % 5 != 2)
    est = NBLogistic(PARAMS).fit_rows(X, rows, y[rows])
    coef, intercept = reference(X[rows].toarray().astype(np.float64), y[rows])
    assert np.allclose(est.coef_, coef, rtol=1e-6, atol=1e-9)
    assert est.intercept_ == pytest.approx(intercept, rel=1e-6)


def test_fit_on_all_rows_is_nb_lr(data) -> None:
    X, y = data
    est = NBLogistic(PARAMS).fit(X, y)
    coef, intercept = reference(X.toarray().astype(np.float64), y)
    assert np.allclose(est.coef_, coef, rtol=1e-6, atol=1e-9)
    assert est.intercept_ == pytest.approx(intercept, rel=1e-6)


def test_held_out_rows_do_not_reach_the_fold_model(data) -> None:
    X, y = data
    rows = np.flatnonzero(np.arange(300) % 5 != 0)
    dense = X.toarray()
    dense[np.arange(300) % 5 == 0] = dense[np.arange(300) % 5 == 0] * 7.0 + 1.0  # every feature present
    changed = sp.csr_matrix(dense)
    a = NBLogistic(PARAMS).fit_rows(X, rows, y[rows])
    b = NBLogistic(PARAMS).fit_rows(changed, rows, y[rows])
    assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_


def test_fit_rows_leaves_the_shared_matrix_alone(data) -> None:
    X, y = data
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    NBLogistic(PARAMS).fit_rows(X, np.arange(0, 300, 2), y[::2])
    NBLogistic(PARAMS).fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True))


def test_a_reused_gather_buffer_gives_the_same_fits(data) -> None:
    X, y = data
    small, large = np.flatnonzero(np.arange(300) % 3 == 0), np.flatnonzero(np.arange(300) % 5 != 0)
    buffer = models.GatherBuffer()
    subsets = (small, large, small, None)
    fits = [NBLogistic(PARAMS).fit_rows(X, r, y if r is None else y[r], buffer) for r in subsets]
    first = fits[0].coef_.copy()
    for est, r in zip(fits, subsets, strict=True):
        fresh = NBLogistic(PARAMS).fit_rows(X, r, y if r is None else y[r])
        assert np.array_equal(est.coef_, fresh.coef_) and est.intercept_ == fresh.intercept_
    assert np.array_equal(fits[0].coef_, first)  # later fits in the buffer leave earlier models
