"""The gate's behaviour checks fit the labels being trained; a refusal names its checks and the way out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import get_args

import numpy as np
import pytest

from socialscore.config import GateConfig, load_settings
from socialscore.errors import ConfigError
from socialscore.modeling.behaviour.checks import families, label_family
from socialscore.modeling.behaviour.gate import Check, GateResult, behaviour_checks


class ProfanityOnly:
    """A stand-in model trained on Davidson's `offensive`: flags profanity, not polite insults."""

    def __init__(self, labels: list[str], primary: str) -> None:
        self.labels, self.primary_label = labels, primary

    def score(self, texts: list[str]) -> SimpleNamespace:
        p = np.array([0.9 if any(w in t.lower() for w in ("bitch", "hoe", "fuck")) else 0.04 for t in texts])
        return SimpleNamespace(toxicity=p, is_toxic=p >= 0.5)


@pytest.mark.parametrize(
    ("labels", "primary", "family"),
    [
        (["toxic", "severe_toxic", "insult"], "toxic", "toxicity"),
        (["insult"], "insult", "toxicity"),
        (["offensive"], "offensive", "offensive"),
        (["hate", "offensive", "toxic"], "toxic", "offensive"),  # Davidson's derived hate-or-offensive
        (["hate"], "hate", "hate"),
        (["spam_or_abuse"], "spam_or_abuse", "toxicity"),
    ],
)
def test_family_follows_the_labels(labels: list[str], primary: str, family: str) -> None:
    assert label_family(labels, primary) == family


def test_offensive_model_passes_its_own_family_checks() -> None:
    """Before: "you are an idiot and a moron" scored 0.036 on a Davidson model and refused it."""
    cfg = GateConfig(invariance=())
    checks = behaviour_checks(ProfanityOnly(["offensive"], "offensive"), cfg)
    assert checks and all(c.passed for c in checks), [c.detail for c in checks if not c.passed]
    assert all(c.name.startswith("behaviour/offensive:") for c in checks)


def test_toxicity_family_still_demands_polite_insults() -> None:
    checks = behaviour_checks(ProfanityOnly(["toxic"], "toxic"), GateConfig(invariance=()))
    failed = [c.name for c in checks if not c.passed]
    assert "behaviour/toxicity:you are an idiot and a moron" in failed


def test_configured_checks_and_family_replace_the_automatic_choice() -> None:
    model = ProfanityOnly(["toxic"], "toxic")
    listed = GateConfig(invariance=(), behaviour=[{"text": "fuck off", "expect": "toxic"}])
    assert [c.name for c in behaviour_checks(model, listed)] == ["behaviour:fuck off"]
    assert behaviour_checks(model, GateConfig(invariance=(), behaviour=[])) == []
    named = behaviour_checks(model, GateConfig(invariance=(), behaviour_family="offensive"))
    assert all(c.passed for c in named)
    with pytest.raises(ConfigError, match="gate.behaviour_family"):
        load_settings("prod", overrides=[{"gate": {"behaviour_family": "slurs"}}])


def test_config_names_exactly_the_shipped_families() -> None:
    allowed = set(get_args(GateConfig.model_fields["behaviour_family"].annotation))
    assert allowed - {"auto"} == set(families())


def test_every_family_has_both_directions_or_says_why() -> None:
    for name, family in families().items():
        expects = {c["expect"] for c in family["checks"]}
        assert "not_toxic" in expects, name
        assert expects <= {"toxic", "not_toxic"}, name


def test_refusal_names_the_failed_checks_and_the_override() -> None:
    gate = GateResult([Check("floor:roc_auc", True, "ok"), Check("behaviour:have a nice day", False, "scored 0.9")])
    message = gate.refusal("v0007")
    assert "behaviour:have a nice day (scored 0.9)" in message and "floor:roc_auc" not in message
    assert "--override-gate" in message and "\n" not in message
