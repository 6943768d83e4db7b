"""Cross-validation per label, the decision threshold per label, and the out-of-fold report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import ConfigError
from socialscore.modeling.training.estimators import (
    Progress,
    canonical,
    fallback_reason,
    make_estimator,
    no_progress,
    run_parallel,
)
from socialscore.modeling.training.metrics import _constant, binary_metrics, mean_metrics


# --- cross-validation and thresholds ------------------------------------------------------------
@dataclass
class CrossValidation:
    raw_oof: np.ndarray  # (n, n_labels) out-of-fold raw scores; NaN where a label skipped CV
    folds: np.ndarray  # (n, n_labels) fold number of each row per label; -1 where skipped
    skipped: dict[str, str]


def cross_validate(
    model_type: str, params: dict[str, Any], X: sp.csr_matrix, Y: np.ndarray, labels: Sequence[str], n_folds: int,
    progress: Progress = no_progress,
) -> CrossValidation:
    """Stratified K-fold per label; every (label, fold) fit runs in parallel (``progress``: rows fitted)."""
    from sklearn.model_selection import StratifiedKFold

    X = canonical(X)
    n = X.shape[0]
    raw = np.full((n, len(labels)), np.nan)
    folds = np.full((n, len(labels)), -1, dtype=np.int16)
    skipped: dict[str, str] = {}
    tasks, where = [], []
    for j, label in enumerate(labels):
        reason = fallback_reason(Y[:, j], n_folds)
        if reason:
            skipped[label] = reason
            continue
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=params.get("random_state", 42))
        for k, (fit_idx, val_idx) in enumerate(splitter.split(np.zeros(n), Y[:, j])):
            folds[val_idx, j] = k
            tasks.append((make_estimator(model_type, params), X, fit_idx, Y[fit_idx, j]))
            where.append((j, val_idx))
    total = sum(len(task[2]) for task in tasks)
    with progress(f"cross-validation ({len(tasks)} fits)", total) as advance:
        fitted = run_parallel(tasks, params.get("n_jobs", -1), model_type, advance)
    for est, (j, val_idx) in zip(fitted, where, strict=True):
        Xv = X[val_idx]
        raw[val_idx, j] = est.raw(Xv) if hasattr(est, "raw") else Xv @ est.coef_ + est.intercept_
    return CrossValidation(raw, folds, skipped)


def choose_threshold(y: np.ndarray, p: np.ndarray, metric: str, sample_weight: np.ndarray | None = None) -> float:
    """The decision threshold on probabilities ``p`` that is best for ``metric`` (rows weighted by
    ``sample_weight``, e.g. for a declared deployment base rate)."""
    from sklearn.metrics import precision_recall_curve

    y, p = np.asarray(y), np.asarray(p)
    if metric == "fixed_0.5" or _constant(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p, sample_weight=sample_weight)
    precision, recall = precision[:-1], recall[:-1]
    if metric in ("f1", "f2"):
        beta2 = 1.0 if metric == "f1" else 4.0
        score = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-12)
        return float(thresholds[int(np.argmax(score))])
    if metric == "precision_at_recall_0.9":
        ok = np.flatnonzero(recall >= 0.9)
        return float(thresholds[ok[-1]]) if len(ok) else 0.5
    raise ConfigError(f"unknown train.threshold_metric {metric!r}")


def out_of_fold_report(
    oof: np.ndarray, Y: np.ndarray, labels: Sequence[str], folds: np.ndarray, n_folds: int,
    skipped: dict[str, str], metric: str, sample_weight: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """A decision threshold per label chosen on its calibrated out-of-fold scores ``oof``, and each
    label's per-fold metrics at that threshold. ``folds`` holds each row's fold, one column per label
    (or one column shared by all labels)."""
    folds = folds.reshape(len(Y), -1)
    thresholds: dict[str, float] = {}
    report: dict[str, Any] = {}
    for j, label in enumerate(labels):
        scored = ~np.isnan(oof[:, j])
        weight = None if sample_weight is None else np.asarray(sample_weight)[scored]
        thresholds[label] = choose_threshold(Y[scored, j], oof[scored, j], metric, weight) if scored.any() else 0.5
        if label in skipped:
            report[label] = {"folds": [], "mean": None, "skipped": skipped[label], "threshold": thresholds[label]}
            continue
        fold = folds[:, j if folds.shape[1] > 1 else 0]
        per_fold = [binary_metrics(Y[fold == k, j], oof[fold == k, j], thresholds[label]) for k in range(n_folds)]
        report[label] = {"folds": per_fold, "mean": mean_metrics(per_fold), "threshold": thresholds[label]}
    return thresholds, report
