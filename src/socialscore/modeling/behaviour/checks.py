"""The quality gate's behaviour checks, per label family (``data/behaviour_checks.yaml``).

A model whose labels mean Jigsaw toxicity must flag "you are an idiot"; one trained on Davidson's
offensive-language tweets need not (polite insults are "neither" there) but must flag profanity. The
family is chosen from the model's labels; ``gate.behaviour`` (a list) replaces the checks, and
``gate.behaviour_family`` names a family instead of choosing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from socialscore.errors import ConfigError

CHECKS_FILE = "data/behaviour_checks.yaml"
# Files beside this module that its results depend on: the step cache hashes them as code.
PACKAGE_DATA = (CHECKS_FILE,)
DEFAULT_FAMILY = "toxicity"  # labels of no known family (e.g. a plain `text,label` file)
DAVIDSON_SIBLINGS = {"hate", "offensive"}  # a `toxic` trained beside these is Davidson's hate-or-offensive


@lru_cache(maxsize=1)
def families() -> dict[str, dict[str, Any]]:
    """family name → {labels, checks} as shipped in the package."""
    text = (resources.files("socialscore.modeling.behaviour") / CHECKS_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)["families"]


def label_family(labels: Sequence[str], primary: str) -> str:
    """The family of ``primary`` given every label the model was trained on."""
    if primary in ("toxic", "any") and DAVIDSON_SIBLINGS & set(labels):
        return "offensive"
    return next((name for name, f in families().items() if primary in f["labels"]), DEFAULT_FAMILY)


def behaviour_cases(cfg: Any, labels: Sequence[str], primary: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(family or None when configured, [(text, expect)]) for the gate config ``cfg``."""
    if cfg.behaviour is not None:
        return None, [(c.text, c.expect) for c in cfg.behaviour]
    family = cfg.behaviour_family
    if family == "auto":
        family = label_family(labels, primary)
    if family not in families():
        raise ConfigError(f"gate.behaviour_family {family!r}: use auto or one of {', '.join(families())}")
    return family, [(c["text"], c["expect"]) for c in families()[family]["checks"]]
