"""The metrics module: one definition of every metric, null with a reason when undefined (moved from
tests/steps/test_evaluate.py with the functions)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialscore.modeling.training import metrics


def test_label_metrics_match_hand_computed_values() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    m = metrics.label_metrics(y, p, 0.5)
    assert (m["accuracy"], m["precision"], m["recall"], m["f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.36 + 0.36) / 4)
    assert m["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert m["reasons"] == {}


def test_no_positive_rows_gives_null_metrics_with_reasons() -> None:
    y = np.zeros((5, 2), dtype=np.int8)
    y[:2, 0] = 1
    p = np.tile([0.1, 0.8, 0.3, 0.2, 0.05], (2, 1)).T
    result = metrics.compute_metrics(y, p, ["toxic", "threat"], {"toxic": 0.5, "threat": 0.5})
    threat = result["labels"]["threat"]
    for key in ("recall", "roc_auc", "pr_auc"):
        assert threat[key] is None
        assert "no positive rows" in threat["reasons"][key]
    assert (
        threat["precision"] == 0.0 and threat["f1"] == 0.0
    )  # one false positive: both defined (0)
    assert threat["accuracy"] == pytest.approx(0.8) and threat["brier"] is not None
    macro = result["macro"]
    assert macro["roc_auc"] == result["labels"]["toxic"]["roc_auc"]
    assert "1 of 2 labels" in macro["reasons"]["roc_auc"]
    json.dumps(result, allow_nan=False)  # valid JSON: null, never NaN


def test_all_positive_label_has_no_roc_auc() -> None:
    m = metrics.label_metrics(np.ones(3), np.array([0.2, 0.7, 0.9]), 0.5)
    assert m["roc_auc"] is None and "no negative rows" in m["reasons"]["roc_auc"]


@pytest.mark.parametrize(
    "y, p",
    [
        ([1, 0, 1, 0, 1], [0.9, 0.2, 0.4, 0.6, 0.7]),  # ordinary
        ([1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4]),  # nothing predicted positive: precision undefined
        ([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]),  # no positives, none predicted: recall and F1 undefined
        ([1, 1, 1], [0.2, 0.7, 0.9]),  # one class: no ROC AUC
    ],
    ids=["ordinary", "none-predicted", "no-positives", "one-class"],
)
def test_cross_validation_folds_and_evaluate_define_each_metric_the_same_way(y: list, p: list) -> None:
    y, p = np.array(y), np.array(p)
    fold = metrics.binary_metrics(y, p, 0.5)
    held_out = metrics.label_metrics(y, p, 0.5)
    assert fold == {key: held_out[key] for key in fold}
    assert set(fold) == {"roc_auc", "f1", "precision", "recall"}
