"""Run the detectors (each behind its cheap gate) and keep non-overlapping spans, best first."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from socialscore.text.pii.span import Span

Detector = Callable[[str], list[Span]]
Gated = tuple[Callable[[str], object], Detector]
Pipeline = tuple[Callable[[str], object], list[Gated], list[Gated]]


def _reference() -> Pipeline:
    """(digit test, detectors for any text, detectors that need a digit): the gates as first written."""
    from socialscore.text.pii import address, numbers, web

    anywhere = [
        (lambda t: "://" in t or "www." in t or "WWW." in t, web.find_scheme_urls),
        (lambda t: "@" in t, web.find_at_forms),
        (web.obfuscation_gate, web.find_obfuscated_emails),
        (lambda t: "." in t and web.DOMAIN_GATE.search(t), web.find_bare_domains),
    ]
    with_digits = [
        (numbers.codes_gate, numbers.find_codes),
        (numbers.DIGITS_GATE.search, numbers.find_numbers),
        (web.ip_gate, web.find_ips),
        (lambda t: True, functools.partial(address.find_addresses, fast=False)),
    ]
    return re.compile(r"[0-9]").search, anywhere, with_digits


def _fast() -> Pipeline:
    """The same detectors behind the cheaper gates of ``prescan`` (the same spans)."""
    from socialscore.text.pii import address, numbers, prescan, web

    anywhere = [
        (prescan.scheme_gate, web.find_scheme_urls),
        (lambda t: "@" in t, web.find_at_forms),
        (prescan.obfuscation_gate, web.find_obfuscated_emails),
        (prescan.domain_gate, web.find_bare_domains),
    ]
    with_digits = [
        (prescan.codes_gate, numbers.find_codes),
        (numbers.DIGITS_GATE.search, numbers.find_numbers),
        (prescan.ip_gate, web.find_ips),
        (lambda t: True, address.find_addresses),
    ]
    return prescan.has_digit, anywhere, with_digits


_PIPELINES: dict[bool, Pipeline] = {}
# Earlier detectors win a tie; a longer span wins over a shorter one it overlaps.
_PRIORITY = {k: i for i, k in enumerate(("URL", "EMAIL", "IBAN", "CARD", "ID", "IP", "PHONE", "USER", "ADDRESS"))}


def find_pii(text: str, *, fast: bool = True) -> list[Span]:
    """Non-overlapping PII spans in ``text``, in order; ``fast=False`` runs the reference gates."""
    pipeline = _PIPELINES.get(fast)
    if pipeline is None:
        pipeline = _PIPELINES[fast] = _fast() if fast else _reference()
    has_digit, anywhere, with_digits = pipeline
    found: list[Span] = []
    for gate, detect in anywhere:
        if gate(text):
            found.extend(detect(text))
    if has_digit(text):
        for gate, detect in with_digits:
            if gate(text):
                found.extend(detect(text))
    if len(found) < 2:
        return found
    found.sort(key=lambda s: (-(s.end - s.start), _PRIORITY[s.kind], s.start))
    kept: list[Span] = []
    for span in found:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept)
