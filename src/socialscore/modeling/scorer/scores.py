"""From label probabilities to what users see: toxicity, flags, social score and risk level.

One rule, used by batch prediction and by the API alike (docs/api.md states it):

- ``toxicity`` is the primary label's calibrated probability; ``social_score`` is round(100 × (1 − toxicity));
- each label is flagged at its own threshold (chosen on out-of-fold scores at training);
  ``is_toxic`` is the primary label's flag;
- ``risk_level`` is ``low`` exactly when the text is not toxic, ``high`` when it is toxic and
  ``toxicity`` reaches the high-risk cut (never below the threshold), ``medium`` otherwise — so
  ``is_toxic`` and ``risk_level`` can never contradict each other.

:func:`output_values` is the one function from scores to what users see (probabilities rounded to
``PROBABILITY_DECIMALS``; ``language``/``reliable`` unknown, None, for a model without a language
profile): the API's rows (``Scores.rows``) and batch predict's table (``steps.predict.score_chunk``)
are both made from it, so they agree value for value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RISK_LEVELS = ("low", "medium", "high")
DEFAULT_HIGH_RISK = 0.7
PROBABILITY_DECIMALS = 6  # finer than any model's calibration; the API and the CSV show the same digits


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

    def rows(self, index: slice = slice(None)) -> list[dict[str, Any]]:
        """The API's answer per text (without ``model_version``), from :func:`output_values`."""
        columns = output_values(self, index)
        probabilities, flags = columns["probabilities"].tolist(), columns["flags"].tolist()
        language, reliable = columns["language"], columns["reliable"]
        rows = []
        for i, (toxicity, is_toxic, score, risk) in enumerate(zip(
                columns["toxicity"].tolist(), columns["is_toxic"].tolist(), columns["social_score"].tolist(),
                columns["risk_level"].tolist(), strict=True)):
            known = {} if reliable is None else {"language": language[i], "reliable": reliable[i]}
            rows.append({
                **known,
                "toxicity": toxicity,
                "is_toxic": is_toxic,
                "social_score": score,
                "risk_level": risk,
                "labels": dict(zip(self.labels, probabilities[i], strict=True)),
                "flags": dict(zip(self.labels, flags[i], strict=True)),
            })
        return rows

    def row(self, i: int) -> dict[str, Any]:
        i = range(len(self))[i]  # IndexError as a list would; -1 is the last
        return self.rows(slice(i, i + 1))[0]


def output_values(scores: Scores, index: slice = slice(None)) -> dict[str, Any]:
    """What users see, column by column, for the texts ``index`` selects: the one rule from scores to
    output, shared by the API (``Scores.rows``) and batch predict (``steps.predict.score_chunk``).

    Probabilities are rounded to ``PROBABILITY_DECIMALS``; ``language`` and ``reliable`` are None when
    the model has no language profile (it cannot say, so nothing claims the text is reliable).
    """
    language, reliable = scores.language, scores.reliable
    known = language is not None and reliable is not None
    return {
        "toxicity": np.round(np.asarray(scores.toxicity[index], dtype=float), PROBABILITY_DECIMALS),
        "probabilities": np.round(np.asarray(scores.probabilities[index], dtype=float), PROBABILITY_DECIMALS),
        "flags": np.asarray(scores.flags[index], dtype=bool),
        "is_toxic": np.asarray(scores.is_toxic[index], dtype=bool),
        "social_score": np.asarray(scores.social_score[index], dtype=np.int64),
        "risk_level": np.asarray(scores.risk[index], dtype=object),
        "language": [str(x) for x in language[index]] if language is not None and known else None,
        "reliable": np.asarray(reliable[index], dtype=bool).tolist() if reliable is not None and known else None,
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
