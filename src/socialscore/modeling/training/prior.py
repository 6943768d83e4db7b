"""A declared deployment base rate (``train.prevalence``): calibration and thresholds for the rate a
moderation team will see, not the rate of a rebalanced training sample.

Training samples are often enriched in toxic comments (the shared Jigsaw sample is 47% toxic; Jigsaw's
full training set is 9.6%). Probabilities calibrated on such a sample, and an F1 threshold chosen on
it, are those of a world where half the comments are toxic: every text with no signal at all scores
~0.2 and the threshold sits low. Declaring the deployment's rate of the primary label re-weights the
out-of-fold rows (primary-label positives by ``prevalence / rate``, negatives by
``(1 - prevalence) / (1 - rate)``, mean weight 1, no row copies) for the two steps that depend on the
base rate: Platt calibration and the choice of each label's threshold. Rankings, and so every ROC
AUC, are unchanged. One weight per row serves every label: the sample is assumed to have been
rebalanced on the primary label (negatives dropped), which is how enriched toxicity samples are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def prior_weights(y_primary: np.ndarray, prevalence: float | None) -> np.ndarray | None:
    """Row weights that give the primary label a weighted rate of ``prevalence`` (mean weight 1).

    None when nothing is declared, or when the rows hold one class only (no rate to correct)."""
    if prevalence is None:
        return None
    y = np.asarray(y_primary).astype(bool)
    rate = float(y.mean()) if len(y) else 0.0
    if rate in (0.0, 1.0):
        return None
    return np.where(y, prevalence / rate, (1.0 - prevalence) / (1.0 - rate))


def calibrate_and_threshold(
    model: Any, raw_oof: np.ndarray, Y: np.ndarray, labels: Sequence[str], folds: np.ndarray, n_folds: int,
    skipped: dict[str, str], settings: Any,
) -> tuple[dict[str, float], dict[str, Any], dict[str, float | None]]:
    """Platt-calibrate ``model`` on the out-of-fold raw scores, then choose a threshold per label on the
    calibrated out-of-fold scores, both weighted for ``settings.train.prevalence`` when declared.

    Returns the thresholds, the out-of-fold report and the primary label's sample and declared rates."""
    from socialscore.modeling.training.validation import out_of_fold_report

    Y = np.asarray(Y)
    primary = labels.index(model.primary_label)
    declared = getattr(settings.train, "prevalence", None)
    weights = prior_weights(Y[:, primary], declared)
    model.calibrate(raw_oof, Y, sample_weight=weights)
    oof = model.calibrated(raw_oof)
    thresholds, report = out_of_fold_report(
        oof, Y, labels, folds, n_folds, skipped, settings.train.threshold_metric, sample_weight=weights
    )
    sample_rate = float(Y[:, primary].mean()) if len(Y) else None
    return thresholds, report, {"sample": sample_rate, "declared": declared if weights is not None else None}
