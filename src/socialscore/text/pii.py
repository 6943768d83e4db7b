"""PII scrubbing: e-mail, URL, IP, phone number and @mention become placeholders.

Five compiled patterns (URL, @-things, bare domains, IPv4/phone, IPv6), each run only on texts that pass a
cheap gate; a match's named group says what it is. Phone numbers and
IPv6 addresses are checked in the callback (digit count, not a date, a valid address) to keep dates,
times and years out. Heuristics, not a guarantee: names and street addresses are not detected.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable

EMAIL, PHONE, URL, USER, IP = "[EMAIL]", "[PHONE]", "[URL]", "[USER]", "[IP]"
SCRUB_PLACEHOLDERS: tuple[str, ...] = (EMAIL, PHONE, URL, USER, IP)
# Masks already present in the anonymised Jigsaw sample (cleaned_training_sample.csv, 10,000 rows):
# [PERSON] 8108, [ORG] 7961, [GPE] 4344, [LOC] 411, [FAC] 196, [EMAIL] 34, [PHONE] 9 occurrences.
DATASET_MASKS: tuple[str, ...] = ("[PERSON]", "[ORG]", "[GPE]", "[LOC]", "[FAC]")
PLACEHOLDERS: tuple[str, ...] = SCRUB_PLACEHOLDERS + DATASET_MASKS

_TLDS = "com|org|net|edu|gov|mil|int|io|info|biz|uk|de|fr|ru|jp|ca|au|tv|nl|es|it|pl|br|cn"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_URL = r"(?P<URL>\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'\[\]{}|\\^`]+)"
_AT = (
    r"(?P<EMAIL>(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)"
    r"|(?P<USER>(?<![\w@])@\w{1,30})"
)
_DOMAIN = rf"(?P<DOMAIN>\b(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})\b(?!\.\w)(?:/[^\s<>\"'\[\]{{}}|\\^`]*)?)"
_NUMERIC = (
    rf"(?P<IP>(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d))"
    r"|(?P<PHONE>(?<![\w+])(?:"
    r"\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}"  # international, needs the '+'
    r"|(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # North American
    r"|\d{3}-\d{4}"  # local
    r")(?!\w))"
)
_IPV6 = r"(?P<IPV6>(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]))"
# Scanning every position with one big alternation costs ~100 µs per comment; instead each family
# runs only on texts that pass a cheap gate (a substring test or a regex with a literal/charset start).
_PASSES: tuple[tuple[object, re.Pattern[str]], ...] = (
    (lambda t: "://" in t or "www." in t or "WWW." in t, re.compile(_URL, re.IGNORECASE)),
    (lambda t: "@" in t, re.compile(_AT)),
    (re.compile(rf"\.(?:{_TLDS})\b", re.IGNORECASE).search, re.compile(_DOMAIN, re.IGNORECASE)),
    (re.compile(r"\d[\d.()+\s-]{5,}").search, re.compile(_NUMERIC)),
    (re.compile(r":[0-9A-Fa-f]{0,4}:").search, re.compile(_IPV6)),
)
_TRAILING_PUNCT = ".,;:!?)'\""
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


def _replacement(match: re.Match[str]) -> tuple[str, str | None]:
    """(replacement text, kind) — kind None when the candidate turned out not to be PII."""
    kind = match.lastgroup
    found = match.group()
    if kind in ("URL", "DOMAIN"):
        stripped = found.rstrip(_TRAILING_PUNCT)
        return URL + found[len(stripped) :], "URL"
    if kind == "IPV6":
        if found.count(":") < 3 or not any(c.isdigit() for c in found):
            return found, None
        try:
            ipaddress.IPv6Address(found)
        except ValueError:
            return found, None
        return IP, "IP"
    if kind == "PHONE":
        digits = sum(c.isdigit() for c in found)
        if not 7 <= digits <= 15 or _DATE.fullmatch(found):
            return found, None
    return f"[{kind}]", kind


def _sub_all(text: str, replace) -> str:
    for gate, pattern in _PASSES:
        if gate(text):  # type: ignore[operator]
            text = pattern.sub(replace, text)
    return text


def scrub(text: str, counts: Counter[str] | None = None) -> str:
    """``text`` with PII replaced by placeholders; ``counts`` (if given) gains one per replacement."""

    def replace(match: re.Match[str]) -> str:
        out, kind = _replacement(match)
        if kind is not None and counts is not None:
            counts[kind] += 1
        return out

    return _sub_all(text, replace)


def scrub_many(texts: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    """Scrub every text; return the new texts and the number of replacements per kind."""
    counts: Counter[str] = Counter()

    def replace(match: re.Match[str]) -> str:
        out, kind = _replacement(match)
        if kind is not None:
            counts[kind] += 1
        return out

    scrubbed = [_sub_all(t, replace) for t in texts]
    return scrubbed, {p.strip("[]"): counts.get(p.strip("[]"), 0) for p in SCRUB_PLACEHOLDERS}
