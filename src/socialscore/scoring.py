"""From label probabilities to what users see: toxicity, is_toxic, social score and risk level.

Used by batch prediction and by the API alike, so both give the same answer for the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from socialscore.bundle import ScoringBundle

RISK_LEVELS = ("low", "medium", "high")
DEFAULT_RISK_THRESHOLDS = (0.4, 0.7)


def social_score(toxicity: np.ndarray) -> np.ndarray:
    """round(100 × (1 − toxicity)): 100 is harmless, 0 is certainly toxic."""
    return np.rint(100.0 * (1.0 - np.asarray(toxicity, dtype=float))).astype(int)


def risk_level(toxicity: np.ndarray, thresholds: tuple[float, float] = DEFAULT_RISK_THRESHOLDS) -> np.ndarray:
    """'low' below the first threshold, 'high' at or above the second, 'medium' between."""
    low, high = thresholds
    index = np.digitize(np.asarray(toxicity, dtype=float), [low, high])
    return np.asarray(RISK_LEVELS, dtype=object)[index]


@dataclass
class Scores:
    labels: list[str]
    probabilities: np.ndarray  # (n, len(labels))
    toxicity: np.ndarray
    is_toxic: np.ndarray
    social_score: np.ndarray
    risk: np.ndarray

    def __len__(self) -> int:
        return len(self.toxicity)

    def row(self, i: int) -> dict:
        return {
            "toxicity": float(self.toxicity[i]),
            "is_toxic": bool(self.is_toxic[i]),
            "social_score": int(self.social_score[i]),
            "risk_level": str(self.risk[i]),
            "labels": {label: float(self.probabilities[i, j]) for j, label in enumerate(self.labels)},
        }


def score_texts(
    bundle: ScoringBundle,
    texts: Sequence[str],
    risk_thresholds: tuple[float, float] = DEFAULT_RISK_THRESHOLDS,
) -> Scores:
    """Score raw texts with a loaded bundle (vectorised over the whole batch)."""
    probabilities = np.asarray(bundle.predict_proba(texts), dtype=float).reshape(len(texts), len(bundle.labels))
    toxicity = probabilities[:, bundle.labels.index(bundle.primary_label)]
    return Scores(
        labels=bundle.labels,
        probabilities=probabilities,
        toxicity=toxicity,
        is_toxic=toxicity >= bundle.threshold,
        social_score=social_score(toxicity),
        risk=risk_level(toxicity, risk_thresholds),
    )
