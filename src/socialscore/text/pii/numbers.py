"""Numbers that identify someone: phone numbers (libphonenumber), payment cards (Luhn), IBANs and
national ids (python-stdnum). A candidate must pass its library's check, so years, prices, scores,
dates, versions and ISBNs stay."""

from __future__ import annotations

import re

import phonenumbers
from stdnum import iban, isbn, luhn
from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.us import ssn

from socialscore.text.pii.span import Span

# Regions whose national formats are tried, most common first; "+CC" and "00CC" numbers need none.
REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "ES", "IT", "NL", "AU", "BR", "JP", "MX")
_TRUNK_ZERO = tuple(r for r in REGIONS if r not in ("US", "ES", "MX"))
_NO_TRUNK_ZERO = ("US", "IN", "ES", "IT", "MX", "BR", "AU", "FR", "DE", "GB", "NL", "JP")
DIGITS_GATE = re.compile(r"\d[\d\s().\-/]{5,}\d")
_CANDIDATE = re.compile(r"(?<![\w+.,/:=#])(?:\+|\b00)?\(?\d[\d\s().\-/]{5,}\d(?!\w|[.,:/-]\d)")
_NANP = re.compile(r"(?:\+?1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[.-]\d{4}")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_YEAR_RANGE = re.compile(r"(?:1[89]|20)\d\d\s*[-/]\s*(?:1[89]|20)?\d\d")
_MULTI_DOTTED = re.compile(r"\d+\.\d+\.[\d.]+")
_DOTTED_PHONE = re.compile(r"\d{3}\.\d{3}\.\d{4}|0\d(?:\.\d\d){4}")
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|35|6(?:011|5|4[4-9])")

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
# National ids in their usual written forms, with their validators. Digit-run forms are checked on the
# phone candidates (no extra scan); forms with letters on tokens of capitals and digits.
_DIGIT_IDS: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(r"\d{3}-\d{2}-\d{4}"), ssn.is_valid),  # US Social Security number
    (re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}"), cpf.is_valid),  # Brazil CPF
    (re.compile(r"\d{4} \d{4} \d{4}"), aadhaar.is_valid),  # India Aadhaar
    (re.compile(r"[12] ?\d{2} ?\d{2} ?\d{2} ?\d{3} ?\d{3} ?\d{2}"), nir.is_valid),  # France NIR
    (re.compile(r"\d{3} \d{3} \d{4}"), nhs.is_valid),  # UK NHS number
)
_LETTER_IDS: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(r"\d{8}-?[A-Z]"), dni.is_valid),  # Spain DNI
    (re.compile(r"[XYZ]-?\d{7}-?[A-Z]"), nie.is_valid),  # Spain NIE
    (re.compile(r"[A-Z]{5}\d{4}[A-Z]"), pan.is_valid),  # India PAN
    (re.compile(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]"), codicefiscale.is_valid),  # Italy
)
_ID_TOKEN = re.compile(r"\b[A-Z0-9][A-Z0-9-]{8,17}\b")
_LETTER_DIGIT = re.compile(r"[A-Z][0-9]")
_DIGIT_LETTER = re.compile(r"[0-9][A-Z]")


def codes_gate(text: str) -> bool:
    """A capital letter beside a digit: every IBAN and lettered id has one (two plain scans are
    cheaper than one alternation)."""
    return _LETTER_DIGIT.search(text) is not None or _DIGIT_LETTER.search(text) is not None


def find_codes(text: str) -> list[Span]:
    """IBANs and national ids written with letters."""
    spans = find_ids(text)
    if _LETTER_DIGIT.search(text):
        spans += find_ibans(text)
    return spans


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _is_card(found: str) -> bool:
    digits = _digits(found)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2 or not _CARD_PREFIX.match(digits):
        return False
    groups = re.split(r"[ -]", found)
    if len(groups) > 1 and not all(3 <= len(g) <= 6 for g in groups):
        return False
    return luhn.is_valid(digits)


def _phones(text: str, start: int, end: int) -> list[Span]:
    """Valid phone numbers inside ``text[start:end]`` (a digit run with separators)."""
    window = text[start:end]
    bare = window.strip("() ")
    if _DATE.fullmatch(bare) or _YEAR_RANGE.fullmatch(bare):
        return []
    if any(_MULTI_DOTTED.fullmatch(t.strip("()")) and not _DOTTED_PHONE.fullmatch(t) for t in window.split()):
        return []  # IPs, versions, dates: a dotted phone number needs its usual grouping
    national = window.lstrip("(")
    if not national.startswith(("+", "0")):
        digits = sum(c.isdigit() for c in window)
        if digits <= 8:
            return []  # without a trunk 0 or a country code, 7-8 digits are no number of REGIONS
        if window.isdigit() and digits != 10:
            return []  # an unbroken run (a revision id such as 675004524) is a phone only as NANP/IN
    if window.startswith("00"):
        window = "+" + window[2:]
        shift = 1
    else:
        shift = 0
    if "-" in window and isbn.is_valid(window) and not _NANP.fullmatch(window):
        return []
    if window.startswith("+"):
        regions: tuple[str | None, ...] = (None,)
    else:  # a leading 0 is a trunk prefix: not how US, Spanish or Mexican numbers start
        regions = _TRUNK_ZERO if national.startswith("0") else _NO_TRUNK_ZERO
    while True:
        best: list[Span] = []
        for region in regions:
            found = [
                Span(start + m.start + (shift if m.start else 0), start + m.end + shift, "PHONE")
                for m in phonenumbers.PhoneNumberMatcher(
                    window, region or "ZZ", leniency=phonenumbers.Leniency.VALID
                )
            ]
            if sum(s.end - s.start for s in found) > sum(s.end - s.start for s in best):
                best = found
                if found[0].start == start and found[-1].end == end:
                    break
        if best:
            return best
        head, sep, _ = window.rpartition(" ")  # "+34 612 34 56 78 12 Angry Men": drop trailing groups
        if not sep or sum(c.isdigit() for c in head) < 7:
            break
        window, end = head, end - (len(window) - len(head))
    nanp = _NANP.fullmatch(window)
    if nanp:  # fictional 555 numbers are "possible", not "valid": still a phone number to scrub
        try:
            number = phonenumbers.parse(window, "US")
        except phonenumbers.NumberParseException:
            return []
        if phonenumbers.is_possible_number(number):
            return [Span(start, end, "PHONE")]
    return []


def find_ids(text: str) -> list[Span]:
    """National ids written with letters (ES DNI/NIE, IN PAN, IT codice fiscale), check characters verified."""
    spans = []
    for m in _ID_TOKEN.finditer(text):
        if any(p.fullmatch(m.group()) and valid(m.group()) for p, valid in _LETTER_IDS):  # type: ignore[operator]
            spans.append(Span(m.start(), m.end(), "ID"))
    return spans


def _is_digit_id(found: str) -> bool:
    return any(p.fullmatch(found) and valid(found) for p, valid in _DIGIT_IDS)  # type: ignore[operator]


def find_numbers(text: str) -> list[Span]:
    """Cards, digit-only national ids (US SSN, BR CPF, IN Aadhaar, FR NIR, UK NHS) and phone numbers."""
    spans: list[Span] = []
    for m in _CANDIDATE.finditer(text):
        start, end = m.start(), m.end()
        while text[end - 1] in " .-/(":
            end -= 1
        if text[start] == "(" and ")" not in text[start:end]:
            start += 1  # "(1-800-277-4653": the bracket belongs to the sentence
        if sum(c.isdigit() for c in text[start:end]) < 7:
            continue
        if _is_card(text[start:end]):
            spans.append(Span(start, end, "CARD"))
            continue
        if _is_digit_id(text[start:end]):
            spans.append(Span(start, end, "ID"))
            continue
        spans += _phones(text, start, end)
    return spans


def find_ibans(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "IBAN") for m in _IBAN.finditer(text) if iban.is_valid(m.group())]
