"""Cheaper gates for the serving path: each passes every text its reference gate passes on which the
detector can find a span, so ``find_pii`` gives the same spans (``find_pii(..., fast=False)`` runs
the reference gates; tests/text/test_pii_fast.py compares both on hostile corpora).

Single characters are tested first: ``"x" in text`` is a memchr, a regex or substring scan is not.
"""

from __future__ import annotations

import re

from socialscore.text.pii.web import DOMAIN_GATE, IPV4_GATE
from socialscore.text.pii.web import ip_gate as _reference_ip_gate


def has_digit(text: str) -> bool:
    """``[0-9]`` anywhere: ten memchr scans cost a sixth of one regex scan."""
    return (
        "0" in text or "1" in text or "2" in text or "3" in text or "4" in text
        or "5" in text or "6" in text or "7" in text or "8" in text or "9" in text
    )


def scheme_gate(text: str) -> bool:
    return (":" in text and "://" in text) or ("." in text and ("www." in text or "WWW." in text))


def domain_gate(text: str) -> bool:
    return "." in text and DOMAIN_GATE.search(text) is not None


def obfuscation_gate(text: str) -> bool:
    """``web.obfuscation_gate``: each bracketed "at" only where its bracket occurs (lower-casing
    neither makes nor removes a bracket or a dot)."""
    low = text.lower()
    return (
        "dot" in low
        or (")" in text and "at)" in low)
        or ("]" in text and "at]" in low)
        or ("}" in text and "at}" in low)
        or (">" in text and "at>" in low)
        or ("." in text and " at " in low)
    )


# scanned from the digits (rarer than capitals): a capital before or after one
_CAPITAL_BESIDE_DIGIT = re.compile(r"[0-9](?:(?<=[A-Z].)|[A-Z])")


def codes_gate(text: str) -> bool:
    """``numbers.codes_gate`` in one scan."""
    return _CAPITAL_BESIDE_DIGIT.search(text) is not None


# the middle of web's IPv6 gate; a literal ':' first, where that gate's hex first character is scanned for
_COLON_GROUPS = re.compile(r":[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")


def ip_gate(text: str) -> bool:
    return ("." in text and IPV4_GATE.search(text) is not None) or (
        ":" in text and _COLON_GROUPS.search(text) is not None and _reference_ip_gate(text)
    )
