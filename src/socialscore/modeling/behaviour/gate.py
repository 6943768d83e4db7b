"""The quality gate between training and promotion: data, held-out floors, behaviour, regression.

Each check is a pure function returning :class:`Check` rows; :class:`GateResult` collects them with
whether the gate is enforced (prod by default) and any deliberate, recorded override.
Data checks run before training (a refused dataset never trains); the rest after evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from socialscore.errors import SocialScoreError


class GateRefused(SocialScoreError):
    """The quality gate refused the data or the model; nothing was promoted."""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class GateResult:
    checks: list[Check] = field(default_factory=list)
    enforced: bool = True
    override: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def promotable(self) -> bool:
        return self.passed or bool(self.override)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def verdict(self) -> str:
        if self.passed:
            return f"passed ({len(self.checks)} checks)"
        failed = "; ".join(c.detail for c in self.failures())
        state = f"overridden ({self.override})" if self.override else "refused"
        return f"{state}: {failed}"

    def refusal(self, subject: str) -> str:
        """The one-line refusal: the failed checks by name and what to do about them."""
        failed = "; ".join(f"{c.name} ({c.detail})" for c in self.failures())
        return (
            f"quality gate refused {subject}: {len(self.failures())} failed check(s): {failed}; nothing promoted. "
            "Fix the data or the gate's config (docs/registry.md), or accept it deliberately with "
            'socialscore run --override-gate "REASON" (recorded)'
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "enforced": self.enforced,
            "override": self.override,
            "verdict": self.verdict(),
            "checks": [asdict(c) for c in self.checks],
        }


# --- before training ----------------------------------------------------------------------------
def data_checks(
    y_train: np.ndarray, y_test: np.ndarray, labels: Sequence[str], primary: str, folds: int, cfg: Any
) -> list[Check]:
    """Enough rows, two classes per label, enough positives to cross-validate and to evaluate."""
    checks = [
        Check(
            "train_rows",
            len(y_train) >= cfg.min_train_rows,
            f"{len(y_train)} training rows (at least {cfg.min_train_rows} needed)",
        )
    ]
    for j, label in enumerate(labels):
        train_pos, test_pos = int(np.sum(y_train[:, j])), int(np.sum(y_test[:, j])) if len(y_test) else 0
        n = len(y_train)
        if train_pos in (0, n):
            checks.append(Check(f"classes:{label}", False, f"label {label} has a single class ({train_pos} positives of {n} training rows)"))
            continue
        if label != primary:
            continue  # a rare secondary label falls back (recorded with the model) instead of refusing it
        need = max(folds, cfg.min_positives)
        minority = min(train_pos, n - train_pos)
        checks.append(
            Check(
                f"positives:{label}",
                minority >= need,
                f"label {label}: {minority} training rows in its smaller class (at least {need} needed to cross-validate)",
            )
        )
        checks.append(
            Check(
                f"test_positives:{label}",
                test_pos >= 1,
                f"label {label}: {test_pos} positives in the held-out split (at least 1 needed to evaluate)",
            )
        )
    return checks


# --- after evaluation ---------------------------------------------------------------------------
def metric_checks(held_out: Mapping[str, Any], primary: str, cfg: Any) -> list[Check]:
    """Held-out floors on the primary label."""
    metrics = held_out["labels"][primary]
    checks = []
    for key, floor in (("roc_auc", cfg.min_roc_auc), ("f1", cfg.min_f1)):
        if floor is None:
            continue
        value = metrics.get(key)
        shown = "n/a" if value is None else f"{value:.4f}"
        checks.append(Check(f"floor:{key}", value is not None and value >= floor, f"held-out {primary} {key} {shown} (floor {floor})"))
    return checks


def behaviour_checks(pipeline: Any, cfg: Any) -> list[Check]:
    """CheckList-style checks through the public scoring call: directional (the checks of the model's
    label family, modeling/behaviour/checks.py, unless ``gate.behaviour`` lists them) and invariance."""
    from socialscore.modeling.behaviour.checks import behaviour_cases

    checks = []
    family, cases = behaviour_cases(cfg, pipeline.labels, pipeline.primary_label)
    prefix = f"behaviour/{family}" if family else "behaviour"  # no [brackets]: rich would read them as markup
    if cases:
        scores = pipeline.score([text for text, _ in cases])
        for (text, expect), toxic, p in zip(cases, scores.is_toxic, scores.toxicity, strict=True):
            want = expect == "toxic"
            checks.append(
                Check(
                    f"{prefix}:{text}",
                    bool(toxic) == want,
                    f"{text!r} scored {p:.3f} ({'toxic' if toxic else 'not toxic'}; expected {expect.replace('_', ' ')})",
                )
            )
    for group in cfg.invariance:
        p = pipeline.score(list(group)).toxicity
        spread = float(np.max(p) - np.min(p)) if len(p) else 0.0
        checks.append(
            Check(
                f"invariance:{group[0]}",
                spread <= cfg.invariance_tolerance,
                f"spellings of {group[0]!r} differ by {spread:.3f} (at most {cfg.invariance_tolerance})",
            )
        )
    return checks


def regression_check(candidate_auc: float | None, production_auc: float | None, production: str, cfg: Any) -> list[Check]:
    """The candidate is not worse than production (on the same held-out rows) beyond the tolerance."""
    if cfg.max_regression is None or candidate_auc is None or production_auc is None:
        return []
    drop = production_auc - candidate_auc
    return [
        Check(
            "regression",
            drop <= cfg.max_regression,
            f"held-out ROC AUC {candidate_auc:.4f} vs production {production} {production_auc:.4f} "
            f"(at most {cfg.max_regression} lower)",
        )
    ]


def bias_checks(bias: Mapping[str, Any], cfg: Any) -> list[Check]:
    """Floors on the identity-term probe results (off unless configured)."""
    summary, checks = bias["summary"], []
    if cfg.max_identity_fpr is not None:
        fpr = summary.get("identity_fpr")
        checks.append(Check("bias:identity_fpr", fpr is not None and fpr <= cfg.max_identity_fpr,
                            f"false-positive rate on non-toxic identity statements {fpr:.3f} (at most {cfg.max_identity_fpr})"))
    if cfg.min_worst_bpsn_auc is not None:
        worst = summary.get("worst_bpsn_auc")
        checks.append(Check("bias:worst_bpsn_auc", worst is not None and worst >= cfg.min_worst_bpsn_auc,
                            f"worst identity BPSN AUC {worst} ({summary.get('worst_bpsn_term')}; floor {cfg.min_worst_bpsn_auc})"))
    return checks
