"""THE metrics module: per-label and macro metrics used by train (cross-validation), evaluate and the gate."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _constant(y: np.ndarray) -> bool:
    return len(y) == 0 or int(np.min(y)) == int(np.max(y))


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float | None]:
    """The cross-validation subset of :func:`label_metrics` (ROC AUC, F1, precision, recall), so a
    fold's figures are defined exactly as the held-out ones: None where undefined, never 0."""
    full = label_metrics(np.asarray(y), np.asarray(p), threshold)
    return {key: full[key] for key in CV_KEYS}


def mean_metrics(per_fold: list[dict[str, float | None]]) -> dict[str, float | None]:
    keys = per_fold[0].keys() if per_fold else ()
    out: dict[str, float | None] = {}
    for key in keys:
        values = [f[key] for f in per_fold if f[key] is not None and not math.isnan(f[key])]
        out[key] = float(np.mean(values)) if values else None
    return out


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def label_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """Metrics for one label; a metric that cannot be computed is None with a reason."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = y.astype(bool)
    pred = p >= threshold
    tp, fp = int(np.sum(y & pred)), int(np.sum(~y & pred))
    fn, tn = int(np.sum(y & ~pred)), int(np.sum(~y & ~pred))
    positives, n = tp + fn, len(y)
    reasons: dict[str, str] = {}
    out: dict[str, Any] = {
        "n_rows": n,
        "n_positive": positives,
        "threshold": threshold,
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, positives),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": None,
        "pr_auc": None,
        "brier": float(brier_score_loss(y, p, pos_label=True)) if n else None,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
    if out["precision"] is None:
        reasons["precision"] = "no row predicted positive at this threshold"
    if positives == 0:
        reasons["recall"] = "no positive rows in the test split"
        reasons["pr_auc"] = "no positive rows in the test split"
        reasons["roc_auc"] = "no positive rows in the test split"
        if out["f1"] is None:
            reasons["f1"] = "no positive rows and none predicted"
    elif positives == n:
        reasons["roc_auc"] = "no negative rows in the test split"
        out["pr_auc"] = float(average_precision_score(y, p))
    else:
        out["roc_auc"] = float(roc_auc_score(y, p))
        out["pr_auc"] = float(average_precision_score(y, p))
    out["reasons"] = reasons
    return out


CV_KEYS = ("roc_auc", "f1", "precision", "recall")
MACRO_KEYS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier")


def macro_metrics(per_label: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Unweighted mean over the labels where a metric exists; says when labels were left out."""
    out: dict[str, Any] = {"n_positive": sum(m["n_positive"] for m in per_label.values())}
    reasons: dict[str, str] = {}
    for key in MACRO_KEYS:
        have = [m[key] for m in per_label.values() if m[key] is not None]
        missing = [label for label, m in per_label.items() if m[key] is None]
        out[key] = float(np.mean(have)) if have else None
        if not have:
            reasons[key] = "not computable for any label"
        elif missing:
            reasons[key] = (
                f"mean over {len(have)} of {len(per_label)} labels (n/a for {', '.join(missing)})"
            )
    out["reasons"] = reasons
    return out


def compute_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    per_label = {
        label: label_metrics(y_true[:, j], proba[:, j], thresholds[label])
        for j, label in enumerate(labels)
    }
    return {"labels": per_label, "macro": macro_metrics(per_label)}
