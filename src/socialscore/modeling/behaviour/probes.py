"""The identity-term probe set shipped with the package (``data/identity_probes.yaml``).

Templated sentences over identity terms, in two disjoint sets: ``evaluation`` (bias is measured on
it) and ``augmentation`` (non-toxic sentences mitigation may add to training).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

PROBES_FILE = "data/identity_probes.yaml"
# Files beside this module that its results depend on: the step cache hashes them as code.
PACKAGE_DATA = (PROBES_FILE,)


@dataclass(frozen=True)
class Probe:
    text: str
    term: str | None  # None for a plain kind sentence
    group: str | None  # religion, ethnicity, …
    toxic: bool
    template: str


@lru_cache(maxsize=1)
def raw_probes() -> dict[str, Any]:
    """The YAML file as shipped in the package."""
    package = resources.files("socialscore.modeling.behaviour")
    text = (package / PROBES_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def identity_terms() -> dict[str, str]:
    """term → group, in file order."""
    return {term: group for group, terms in raw_probes()["identity_terms"].items() for term in terms}


def _expand(templates: list[str], toxic: bool) -> list[Probe]:
    return [
        Probe(template.format(term=term), term, group, toxic, template)
        for template in templates
        for term, group in identity_terms().items()
    ]


def _plain(sentences: list[str]) -> list[Probe]:
    return [Probe(s, None, None, False, s) for s in sentences]


def evaluation_probes() -> list[Probe]:
    """Non-toxic and toxic identity statements, then the plain kind sentences."""
    section = raw_probes()["evaluation"]
    return _expand(section["non_toxic"], False) + _expand(section["toxic"], True) + _plain(section["kind"])


def implicit_hate_probes() -> list[Probe]:
    """Toxic identity statements without an insult word (reported as a recall, apart from the AUCs)."""
    return _expand(raw_probes()["evaluation"].get("toxic_implicit", []), True)


def augmentation_sentences(extended: bool = True) -> list[str]:
    """Non-toxic sentences for training (identity statements and kind sentences); never evaluated on.

    ``extended=False``: without the ``*_extra`` templates (the first session's set, for the benchmark)."""
    section = raw_probes()["augmentation"]
    non_toxic = section["non_toxic"] + (section.get("non_toxic_extra", []) if extended else [])
    kind = section["kind"] + (section.get("kind_extra", []) if extended else [])
    return [p.text for p in _expand(non_toxic, False) + _plain(kind)]


def without_identity_terms(lexicon: frozenset[str]) -> frozenset[str]:
    """``lexicon`` minus every word of an identity term: an identity is not an insult ("gay").

    Here, not in mitigation.py (pandas): building a featurizer from settings must not need pandas."""
    words = {w for term in identity_terms() for w in term.split()}
    return frozenset(lexicon - words)
