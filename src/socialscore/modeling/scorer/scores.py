"""From label probabilities to what users see: toxicity, flags, social score and risk level.

One rule, used by batch prediction and by the API alike (docs/api.md states it):

- ``toxicity`` is the primary label's calibrated probability; ``social_score`` is round(100 × (1 − toxicity));
- each label is flagged at its own threshold (chosen on out-of-fold scores at training);
  ``is_toxic`` is the primary label's flag;
- ``risk_level`` is ``low`` exactly when the text is not toxic, ``high`` when it is toxic and
  ``toxicity`` reaches the high-risk cut (never below the threshold), ``medium`` otherwise — so
  ``is_toxic`` and ``risk_level`` can never contradict each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RISK_LEVELS = ("low", "medium", "high")
DEFAULT_HIGH_RISK = 0.7


def social_score(toxicity: np.ndarray) -> np.ndarray:
    """round(100 × (1 − toxicity)): 100 is harmless, 0 is certainly toxic."""
    return np.rint(100.0 * (1.0 - np.asarray(toxicity, dtype=float))).astype(int)


def risk_level(toxicity: np.ndarray, threshold: float, high_risk: float = DEFAULT_HIGH_RISK) -> np.ndarray:
    """'low' below ``threshold`` (not toxic), 'high' at or above max(high_risk, threshold), else 'medium'."""
    toxicity = np.asarray(toxicity, dtype=float)
    index = np.where(toxicity < threshold, 0, np.where(toxicity >= max(high_risk, threshold), 2, 1))
    return np.asarray(RISK_LEVELS, dtype=object)[index]


@dataclass
class Scores:
    labels: list[str]
    probabilities: np.ndarray  # (n, len(labels))
    flags: np.ndarray  # (n, len(labels)) bool: each label at its own threshold
    toxicity: np.ndarray
    is_toxic: np.ndarray
    social_score: np.ndarray
    risk: np.ndarray
    language: list[str] | None = None  # detected per text, when the model knows its training languages
    reliable: np.ndarray | None = None  # False: a language the model was not trained on

    def __len__(self) -> int:
        return len(self.toxicity)

    def row(self, i: int) -> dict:
        language = {} if self.reliable is None else {
            "language": self.language[i], "reliable": bool(self.reliable[i])}  # type: ignore[index]
        return {
            **language,
            "toxicity": float(self.toxicity[i]),
            "is_toxic": bool(self.is_toxic[i]),
            "social_score": int(self.social_score[i]),
            "risk_level": str(self.risk[i]),
            "labels": {label: float(self.probabilities[i, j]) for j, label in enumerate(self.labels)},
            "flags": {label: bool(self.flags[i, j]) for j, label in enumerate(self.labels)},
        }


def scores_from_probabilities(
    probabilities: np.ndarray,
    labels: Sequence[str],
    primary_label: str,
    thresholds: Mapping[str, float],
    high_risk: float = DEFAULT_HIGH_RISK,
) -> Scores:
    """Apply the per-label thresholds and the risk rule to calibrated probabilities."""
    labels = list(labels)
    probabilities = np.asarray(probabilities, dtype=float).reshape(-1, len(labels))
    cuts = np.asarray([thresholds[label] for label in labels], dtype=float)
    flags = probabilities >= cuts
    primary = labels.index(primary_label)
    toxicity = probabilities[:, primary]
    return Scores(
        labels=labels,
        probabilities=probabilities,
        flags=flags,
        toxicity=toxicity,
        is_toxic=flags[:, primary],
        social_score=social_score(toxicity),
        risk=risk_level(toxicity, float(cuts[primary]), high_risk),
    )
