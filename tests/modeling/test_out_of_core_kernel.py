"""The compiled SGD kernel of the out-of-core trainer: sklearn's SGD step per model, fold masks, the
numba build equal to the plain Python function, and the trainer it drives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score

from socialscore.config import load_settings
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.modeling.training import sgd_kernel
from socialscore.modeling.training.out_of_core import train_out_of_core
from socialscore.modeling.training.out_of_core_blocks import CsrBlocks, hash_folds
from socialscore.modeling.training.sgd_kernel import optimal_t0, sgd_block, slots
from socialscore.storage.synthetic import generate_example

LABELS = ["toxic", "insult"]
ALPHA = 3e-4


@pytest.fixture(scope="module")
def corpus():
    frame = generate_example(3000, seed=5)
    X = HashingFeaturizer(hash_bits=14).fit_transform(frame["comment_text"].tolist())
    return X, frame[LABELS].to_numpy().astype(np.int8), frame["id"].astype(str).to_numpy()


def _state(n_labels: int, width: int, n_models: int, seed: int = 0):
    """One table for all labels: weights beside NB ratios, wscale, intercept, t (label by label)."""
    n = n_labels * n_models
    WR = np.zeros((width, n, 2))
    WR[:, :, 1] = np.random.default_rng(seed).uniform(0.2, 2.0, (width, n))
    return WR, np.ones(n), np.zeros(n), np.ones(n)


def _run(kernel, X, y, folds, cv, cross, class_w, state, order=None):
    n_models = state[0].shape[1] // y.shape[1]
    loss = np.zeros((y.shape[1], 2))
    order = np.arange(X.shape[0]) if order is None else order
    kernel(X.indptr, X.indices, X.data, order, y, folds, cv, *slots(np.arange(y.shape[1]), n_models), n_models - 1,
           np.ones(y.shape[1], dtype=bool), cross, class_w, *state, ALPHA, optimal_t0(ALPHA), loss)
    return loss


def _sklearn(X, y, ratio, rows, weight):
    part = X[rows].astype(np.float64)
    part = sp.csr_matrix(part.multiply(ratio.astype(np.float64)[None, :]))
    model = SGDClassifier(loss="log_loss", alpha=ALPHA, learning_rate="optimal", shuffle=False,
                          class_weight={0: weight[0], 1: weight[1]})
    model.partial_fit(part, y[rows], classes=[0, 1])
    return model.coef_.ravel(), float(model.intercept_[0])


def test_every_model_takes_sklearns_sgd_steps_on_the_rows_outside_its_fold(corpus) -> None:
    X, y, ids = corpus
    X, y, ids = X[:600], np.ascontiguousarray(y[:600]), ids[:600]
    n_folds = 3
    folds = hash_folds(ids, n_folds)
    cv = np.random.default_rng(1).random(600) < 0.6
    class_w = np.array([[0.7, 1.9], [0.6, 3.0]])
    state = _state(2, X.shape[1], n_folds + 1)
    loss = _run(sgd_block, X, y, folds, cv, np.array([True, False]), class_w, state)
    WR, wscale, intercept, t = state
    for i, models in ((0, range(n_folds + 1)), (1, [n_folds])):
        for m in models:
            s = i * (n_folds + 1) + m
            rows = np.arange(600) if m == n_folds else np.flatnonzero((folds != m) & cv)
            coef, b = _sklearn(X, y[:, i], WR[:, s, 1], rows, class_w[i])
            np.testing.assert_allclose(WR[:, s, 0] * wscale[s], coef, rtol=1e-7, atol=1e-10)
            assert intercept[s] == pytest.approx(b, rel=1e-7, abs=1e-12)
            assert t[s] == 1 + len(rows)
    untouched = WR[:, n_folds + 1 : 2 * n_folds + 1, 0]  # label 1 is not cross-validated: its fold models never learn
    assert not untouched.any() and (t[n_folds + 1 : 2 * n_folds + 1] == 1).all()
    assert loss[0, 1] == 600 and loss[1, 1] == 600 and (loss[:, 0] > 0).all()


@pytest.mark.slow
def test_the_compiled_kernel_equals_the_plain_python_function(corpus) -> None:
    X, y, ids = corpus
    X, y = X[:200], np.ascontiguousarray(y[:200])
    folds = hash_folds(ids[:200], 3)
    cv = np.random.default_rng(2).random(200) < 0.5
    order = np.random.default_rng(3).permutation(200)
    args = (X, y, folds, cv, np.array([True, True]), np.array([[1.0, 2.0], [0.8, 1.4]]))
    compiled, plain = _state(2, X.shape[1], 4), _state(2, X.shape[1], 4)
    loss_c = _run(sgd_block, *args, compiled, order)
    loss_p = _run(sgd_block.py_func, *args, plain, order)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss_c, loss_p, rtol=1e-12)


def _fit(project_dir, X, y, ids, kernel: bool, monkeypatch, n_jobs: int = -1, **train):
    monkeypatch.setattr(sgd_kernel, "AVAILABLE", kernel)
    cfg = load_settings("dev", project_dir, [{"model": {"epochs": 10, "n_jobs": n_jobs}, "train": train}])
    return train_out_of_core(CsrBlocks(X, 500), ids, y, LABELS, cfg)


@pytest.mark.slow
def test_kernel_trainer_matches_the_sklearn_trainer(project_dir, corpus, monkeypatch) -> None:
    X, y, ids = corpus
    train, test = slice(0, 2400), slice(2400, None)
    fast, fast_report = _fit(project_dir, X[train], y[train], ids[train], True, monkeypatch)
    slow, slow_report = _fit(project_dir, X[train], y[train], ids[train], False, monkeypatch)
    for j, label in enumerate(LABELS):
        ours = roc_auc_score(y[test, j], fast.predict_proba(X[test])[:, j])
        theirs = roc_auc_score(y[test, j], slow.predict_proba(X[test])[:, j])
        assert abs(ours - theirs) < 0.005, (label, ours, theirs)
        cv_ours, cv_theirs = (r["cv"][label]["mean"]["roc_auc"] for r in (fast_report, slow_report))
        assert abs(cv_ours - cv_theirs) < 0.01
        assert 2 <= len(fast_report["epoch_losses"][label]) <= 10


def test_kernel_reads_one_block_at_a_time_and_cv_rows_limit_the_fold_models(project_dir, corpus, monkeypatch) -> None:
    X, y, ids = corpus
    calls: list[tuple[int, np.ndarray]] = []
    original = sgd_kernel.sgd_block

    def spy(indptr, *args):
        calls.append((len(indptr) - 1, args[6], args[7], args[15]))  # rows, slot label, slot model, t
        return original(indptr, *args)

    monkeypatch.setattr(sgd_kernel, "sgd_block", spy)
    model, report = _fit(project_dir, X[:1200], y[:1200], ids[:1200], True, monkeypatch, cv_max_rows=300)
    assert max(rows for rows, *_ in calls) <= 500
    epochs = [len(report["epoch_losses"][label]) for label in LABELS]
    tables = {id(t): (label, model, t) for _, label, model, t in calls}
    assert sum(len(t) for *_, t in tables.values()) == len(LABELS) * 4  # every model of every label, once
    for slot_label, slot_model, t in tables.values():
        for i, m, updates in zip(slot_label, slot_model, t - 1, strict=True):
            if m == 3:  # the final model: every row, every epoch
                assert updates == 1200 * epochs[i]
            else:  # a fold model: ~2/3 of the ~300 cv rows
                assert 200 * epochs[i] * 0.5 < updates < 200 * epochs[i] * 1.5
    assert np.isfinite(model.calibration["toxic"]).all()


@pytest.mark.slow
def test_labels_on_threads_give_the_single_thread_model(project_dir, corpus, monkeypatch) -> None:
    X, y, ids = corpus
    one, _ = _fit(project_dir, X[:900], y[:900], ids[:900], True, monkeypatch, n_jobs=1)
    two, _ = _fit(project_dir, X[:900], y[:900], ids[:900], True, monkeypatch, n_jobs=2)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.calibration["insult"], two.calibration["insult"])
