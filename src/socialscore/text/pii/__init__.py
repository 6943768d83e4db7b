"""PII scrubbing: e-mails, URLs, IPs, phone/card/IBAN/id numbers, @handles and street addresses.

``find_pii`` lists typed spans; ``scrub`` replaces them with placeholders such as ``[EMAIL]``. Every
detector runs only on texts that pass a cheap gate (a substring or a one-character class), so a comment
with no digit, ``@`` or dot costs a few µs. Libraries do the checking: ``phonenumbers`` (phone numbers
by region), ``python-stdnum`` (Luhn, IBAN, SSN and national ids), ``tldextract``'s bundled public-suffix
snapshot (never fetched). Heuristics remain heuristics: names are not detected and street addresses
only in common English, German, French, Spanish and Italian forms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from socialscore.text.pii.engine import find_pii
from socialscore.text.pii.span import KINDS, Span

EMAIL, PHONE, URL, USER, IP = "[EMAIL]", "[PHONE]", "[URL]", "[USER]", "[IP]"
CARD, IBAN, ID, ADDRESS = "[CARD]", "[IBAN]", "[ID]", "[ADDRESS]"
SCRUB_PLACEHOLDERS: tuple[str, ...] = (EMAIL, PHONE, URL, USER, IP, CARD, IBAN, ID, ADDRESS)
# Masks already present in the anonymised Jigsaw sample (cleaned_training_sample.csv, 10,000 rows):
# [PERSON] 8108, [ORG] 7961, [GPE] 4344, [LOC] 411, [FAC] 196, [EMAIL] 34, [PHONE] 9 occurrences.
DATASET_MASKS: tuple[str, ...] = ("[PERSON]", "[ORG]", "[GPE]", "[LOC]", "[FAC]")
PLACEHOLDERS: tuple[str, ...] = SCRUB_PLACEHOLDERS + DATASET_MASKS

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "SCRUB_PLACEHOLDERS",
    "DATASET_MASKS",
    "Span",
    "find_pii",
    "scrub",
    "scrub_many",
]


def scrub(text: str, counts: Counter[str] | None = None, *, fast: bool = True) -> str:
    """``text`` with PII replaced by placeholders; ``counts`` (if given) gains one per replacement.
    ``fast=False``: the reference gates (the same output, for comparison)."""
    spans = find_pii(text, fast=fast)
    if not spans:
        return text
    parts, last = [], 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(f"[{span.kind}]")
        last = span.end
        if counts is not None:
            counts[span.kind] += 1
    parts.append(text[last:])
    return "".join(parts)


def scrub_many(texts: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    """Scrub every text; return the new texts and the number of replacements per kind."""
    counts: Counter[str] = Counter()
    scrubbed = [scrub(t, counts) for t in texts]
    return scrubbed, {p.strip("[]"): counts.get(p.strip("[]"), 0) for p in SCRUB_PLACEHOLDERS}
