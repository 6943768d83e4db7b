"""Out-of-core trainer: blocks, hashed folds, one-pass NB ratios, the model it returns, its selection."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import roc_auc_score

from socialscore.config import load_settings
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.modeling.training import sgd_kernel
from socialscore.modeling.training.estimators import SocialScoreModel
from socialscore.modeling.training.out_of_core import (
    IN_MEMORY,
    OUT_OF_CORE,
    ColumnSums,
    choose_trainer,
    train_out_of_core,
)
from socialscore.modeling.training.out_of_core_blocks import (
    CsrBlocks,
    NpzBlocks,
    NpzBlockWriter,
    hash_folds,
)
from socialscore.steps.train import train_chosen, train_model
from socialscore.storage.synthetic import generate_example

LABELS = ["toxic", "insult"]


@pytest.fixture(scope="module")
def corpus():
    frame = generate_example(1600, seed=11)
    X = HashingFeaturizer(hash_bits=14).fit_transform(frame["comment_text"].tolist())
    y = frame[LABELS].to_numpy().astype(np.int8)
    ids = frame["id"].astype(str).to_numpy()
    return X, y, ids


def settings(project_dir, **train):
    return load_settings("dev", project_dir, [{"train": train, "model": {"epochs": 5}}])


def test_block_views_and_npz_blocks_give_back_the_matrix(tmp_path, corpus) -> None:
    X = corpus[0]
    views = CsrBlocks(X, block_rows=300)
    assert (sp.vstack([b for _, b in views]) != X).nnz == 0
    assert [start for start, _ in views] == list(range(0, X.shape[0], 300))
    writer = NpzBlockWriter(tmp_path / "blocks", X.shape[1])
    for _, block in views:
        writer.append(block)
    on_disk = writer.close()
    again = NpzBlocks(tmp_path / "blocks")
    assert again.n_rows == on_disk.n_rows == X.shape[0] and again.starts == views.starts
    assert (sp.vstack([b for _, b in again]) != X).nnz == 0


def test_hash_folds_depend_on_the_id_only(corpus) -> None:
    ids = corpus[2]
    folds = hash_folds(ids, 5)
    assert set(np.unique(folds)) == set(range(5))
    assert np.bincount(folds).min() > len(ids) / 5 * 0.7
    np.testing.assert_array_equal(hash_folds(ids[::-1], 5), folds[::-1])
    np.testing.assert_array_equal(hash_folds(ids[100:200], 5), folds[100:200])


def test_one_pass_ratios_equal_ratios_from_gathered_rows(corpus) -> None:
    X, y, ids = corpus
    folds = hash_folds(ids, 3)
    sums = ColumnSums(CsrBlocks(X, 250), y, folds, 3)
    for k in (0, 2, None):
        rows = np.arange(len(y)) if k is None else np.flatnonzero(folds != k)
        part = X[rows].astype(np.float64)
        total = np.asarray(part.sum(axis=0)).ravel()
        pos = 1.0 + part.T @ y[rows, 0]
        neg = 1.0 + total - (pos - 1.0)
        expected = np.log((pos / pos.sum()) / (neg / neg.sum()))
        np.testing.assert_allclose(sums.ratio(0, k, 1.0), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_trains_a_calibrated_model_close_to_the_in_memory_one(project_dir, tmp_path, corpus) -> None:
    X, y, ids = corpus
    train, test = slice(0, 1200), slice(1200, None)
    cfg = settings(project_dir)
    model, report = train_out_of_core(CsrBlocks(X[train], 256), ids[train], y[train], LABELS, cfg)
    assert isinstance(model, SocialScoreModel) and model.labels == LABELS and report["trainer"] == OUT_OF_CORE
    assert set(model.calibration) == set(LABELS) and 0.0 < model.threshold < 1.0
    toxic = report["cv"]["toxic"]
    assert len(toxic["folds"]) == 3 and set(toxic["mean"]) == {"roc_auc", "f1", "precision", "recall"}
    reference, ref_report = train_model(X[train], y[train], LABELS, cfg)
    assert set(report) >= set(ref_report)
    ours = roc_auc_score(y[test, 0], model.predict_proba(X[test])[:, 0])
    theirs = roc_auc_score(y[test, 0], reference.predict_proba(X[test])[:, 0])
    assert ours > 0.8 and abs(ours - theirs) < 0.03
    # blocks on disk train the very same model
    writer = NpzBlockWriter(tmp_path / "b", X.shape[1])
    for _, block in CsrBlocks(X[train], 256):
        writer.append(block)
    again, _ = train_out_of_core(writer.close(), ids[train], y[train], LABELS, cfg)
    np.testing.assert_array_equal(again.coef_, model.coef_)


def test_rare_label_skips_cv_and_constant_label_falls_back(project_dir, corpus) -> None:
    X, y, ids = corpus
    y = y.copy()
    y[:, 1] = 0
    y[:2, 1] = 1  # 2 positives < 3 folds
    model, report = train_out_of_core(CsrBlocks(X[:800], 200), ids[:800], y[:800], LABELS, settings(project_dir))
    assert "CV skipped" in report["cv"]["insult"]["skipped"]
    y[:, 1] = 0
    model, report = train_out_of_core(CsrBlocks(X[:800], 200), ids[:800], y[:800], LABELS, settings(project_dir))
    assert "insult" in model.fallbacks and np.isfinite(model.predict_proba(X[800:900])).all()


def test_the_default_budget_sends_the_160k_run_out_of_core(project_dir) -> None:
    """160k generated comments (128k training rows, ~595 non-zeros each) peaked at 3.48 GB summed in
    the in-memory trainer, over the 3 GB default budget; at 36 bytes per non-zero it was judged to fit."""
    assert choose_trainer(settings(project_dir), 128_000, 128_000 * 595) == OUT_OF_CORE
    assert choose_trainer(settings(project_dir), 8_000, 8_000 * 595) == IN_MEMORY  # the shared sample's size


def test_the_trainer_is_chosen_by_size_budget_or_setting(project_dir, corpus) -> None:
    assert choose_trainer(settings(project_dir), 1000, 10_000) == IN_MEMORY
    assert choose_trainer(settings(project_dir, out_of_core_rows=999), 1000, 10_000) == OUT_OF_CORE
    assert choose_trainer(settings(project_dir, memory_budget=64), 1000, 10_000_000) == OUT_OF_CORE
    assert choose_trainer(settings(project_dir, trainer="in_memory", out_of_core_rows=1), 1000, 10) == IN_MEMORY
    X, y, ids = corpus
    _, report = train_chosen(X[:600], ids[:600], y[:600], LABELS, settings(project_dir, trainer="out_of_core"))
    assert report["trainer"] == OUT_OF_CORE
    _, report = train_chosen(X[:600], ids[:600], y[:600], LABELS, settings(project_dir))
    assert report["trainer"] == IN_MEMORY


@pytest.mark.slow
def test_pipeline_summary_says_which_trainer_ran(project_dir) -> None:
    from socialscore.layout import Layout
    from socialscore.pipeline.orchestrator import Orchestrator

    generate_example(900, seed=2).to_csv(project_dir / "data.csv", index=False)
    overrides = [
        {"data": {"files": ["data.csv"]}},
        {"train": {"trainer": "out_of_core"}},
        {"features": {"vectorizer": "hashing", "hash_bits": 14}},
    ]
    cfg = load_settings("dev", project_dir, overrides)
    summary = Orchestrator(cfg, Layout.for_settings(cfg, project_dir)).run(["extract", "transform", "load", "features", "train"])
    assert summary.ok, summary.error
    facts = {step.name: step.facts for step in summary.steps}
    assert facts["train"]["trainer"] == OUT_OF_CORE


def test_row_ranges_cut_blocks_and_gather_fills_one_matrix(tmp_path, corpus) -> None:
    from socialscore.modeling.training.out_of_core_blocks import RowRange, gather, write_blocks

    X = corpus[0]
    write_blocks(tmp_path / "b", (b for _, b in CsrBlocks(X, 300)))
    blocks = NpzBlocks(tmp_path / "b")
    assert blocks.nnz == X.nnz and sum(blocks.block_nnz) == X.nnz
    whole = gather(RowRange(blocks, 0, 600))  # block-aligned: nnz known, filled in place
    assert RowRange(blocks, 0, 600).nnz == X[:600].nnz and (whole != X[:600]).nnz == 0
    cut = RowRange(blocks, 250, 1310)
    assert cut.nnz is None and cut.starts == [0, 50, 350, 650, 950]
    assert (gather(cut) != X[250:1310]).nnz == 0
    with pytest.raises(ValueError):
        RowRange(blocks, 10, X.shape[0] + 1)


@pytest.mark.slow
def test_epochs_stop_early_once_the_held_out_loss_is_flat(project_dir, corpus) -> None:
    X, y, ids = corpus
    cfg = load_settings("dev", project_dir, [{"model": {"epochs": 40}}])
    _, report = train_out_of_core(CsrBlocks(X[:1200], 300), ids[:1200], y[:1200], LABELS, cfg)
    for label in LABELS:
        losses = report["epoch_losses"][label]
        assert 3 <= len(losses) < 40  # stopped: N_ITER_NO_CHANGE epochs without a TOL improvement
        assert losses[-1] > min(losses) - 1e-3 and losses[-2] > min(losses[:-1]) - 1e-3
    capped = load_settings("dev", project_dir, [{"model": {"epochs": 2}}])
    _, short = train_out_of_core(CsrBlocks(X[:1200], 300), ids[:1200], y[:1200], LABELS, capped)
    assert all(len(h) == 2 for h in short["epoch_losses"].values())  # model.epochs stays the cap


def test_stopping_rule_is_sklearns() -> None:
    from socialscore.modeling.training.out_of_core import _stalled

    assert not _stalled([0.5, 0.4, 0.3])
    assert not _stalled([0.5, 0.4, 0.3995])  # one epoch without a 1e-3 improvement
    assert _stalled([0.5, 0.4, 0.3995, 0.3992])  # two in a row
    assert not _stalled([0.5, 0.4, 0.3995, 0.39])


@pytest.mark.slow
def test_no_fold_is_gathered_and_cv_rows_limit_the_fold_models(project_dir, corpus, monkeypatch) -> None:
    from sklearn.linear_model import SGDClassifier

    X, y, ids = corpus
    sizes: list[int] = []
    original = SGDClassifier.partial_fit

    def spy(self, X_part, y_part, **kwargs):
        sizes.append(X_part.shape[0])
        return original(self, X_part, y_part, **kwargs)

    monkeypatch.setattr(SGDClassifier, "partial_fit", spy)
    monkeypatch.setattr(sgd_kernel, "AVAILABLE", False)  # the sklearn fallback (the kernel: test_out_of_core_kernel)
    cfg = load_settings("dev", project_dir, [{"model": {"epochs": 2}, "train": {"cv_max_rows": 300}}])
    model, report = train_out_of_core(CsrBlocks(X[:1200], 200), ids[:1200], y[:1200], LABELS, cfg)
    assert max(sizes) <= 200  # never more rows than one block
    assert 200 < report["cv_rows"] < 400
    epochs = sum(len(h) for h in report["epoch_losses"].values())
    # per label and epoch: the final model 1200 rows, the 3 fold models ~2/3 of ~300 each (not 3 × 800)
    assert 1200 + 400 < sum(sizes) / epochs < 1200 + 800
    assert np.isfinite(model.calibration["toxic"]).all()
