"""Best-effort street addresses: "221B Baker Street", "1600 Pennsylvania Ave NW", "Hauptstraße 5",
"12 rue de la Paix", "Calle Mayor 10", "Via Roma 1". Names without a number or street word are missed."""

from __future__ import annotations

import re

from socialscore.text.pii.span import Span

_EN_STREET = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    r"Close|Crescent|Highway|Hwy|Parkway|Pkwy|Square|Sq|Loop|Row|Walk|Circle|Alley"
)
_NAME = r"[A-Z][\w'-]*"
# (gate, pattern): the gate is a regex that starts with a literal (so it scans fast) and must match
# before the costlier pattern runs.
_PATTERNS: tuple[tuple[str, str], ...] = (
    # 221B Baker Street, 1600 Pennsylvania Ave NW, 10 Downing St.
    (
        rf" (?:{_EN_STREET})\b",
        rf"\d{{1,5}}[A-Za-z]?,?\s+(?:{_NAME}\s+){{1,4}}(?:{_EN_STREET})\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
    ),
    # Hauptstraße 5, Berliner Str. 12a, Lindenweg 3
    (
        "german",
        r"(?<!\w)[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,4}[a-z]?\b"
        r"|(?<!\w)(?:[A-ZÄÖÜ][\wäöüß-]*\s)?(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee)\s+\d{1,4}[a-z]?\b",
    ),
    # 12 rue de la Paix, 5 avenue des Champs-Élysées, 3 bis boulevard Voltaire
    (
        r" (?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai) ",
        r"\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai)"
        r"\s+(?:de\s+la\s+|de\s+l'|du\s+|des\s+|de\s+|d')?[A-ZÀ-Ý][\wÀ-ÿ'-]*(?:\s+[A-ZÀ-Ý][\wÀ-ÿ'-]*){0,3}",
    ),
    # Calle Mayor 10, Via Roma 1, Avenida Paulista 1578, Rua Augusta 200
    (
        r"(?:Calle|Avenida|Av\.|Plaza|Paseo|Via|Viale|Piazza|Corso|Rua) ",
        r"(?<!\w)(?:Calle|Avenida|Av\.|Plaza|Paseo|Via|Viale|Piazza|Corso|Rua)\s+"
        r"(?:de\s+la\s+|del\s+|de\s+|da\s+|do\s+|dei\s+|della\s+)?"
        r"[A-ZÀ-Ý][\wÀ-ÿ'-]*(?:\s+[A-ZÀ-Ý][\wÀ-ÿ'-]*){0,3},?\s+\d{1,5}\b",
    ),
)
_GERMAN_SUFFIXES = ("straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "ring", "damm")
_SPACE_DIGIT = re.compile(r" \d")


def _german_gate(text: str) -> bool:
    """A number after a word ending in a street suffix ("...straße 5"): the few " <digit>" spots of a
    text are checked in Python, cheaper than one regex alternation over every position."""
    for hit in _SPACE_DIGIT.finditer(text):
        word = text[max(0, hit.start() - 40) : hit.start()].rsplit(None, 1)[-1:]
        if word and word[0].lower().endswith(_GERMAN_SUFFIXES):
            return True
    return False


def _first_letter_lookahead(gate: str) -> str:
    """``gate`` = " (?:word|...)...": a look-ahead for the words' first letters after the space, so the
    scan tries the ~30 words only where one can start (the same matches)."""
    if not gate.startswith(" (?:"):
        return gate
    words = gate[4 : gate.index(")")].split("|")
    return f" (?=[{''.join(sorted({w[0] for w in words}))}])" + gate[1:]


def _compile(lookahead: bool):
    return tuple(
        (
            _german_gate if gate == "german" else re.compile(_first_letter_lookahead(gate) if lookahead else gate).search,
            re.compile(pattern),
        )
        for gate, pattern in _PATTERNS
    )


_COMPILED, _FAST = _compile(lookahead=False), _compile(lookahead=True)


def find_addresses(text: str, *, fast: bool = True) -> list[Span]:
    spans = []
    for gate, pattern in _FAST if fast else _COMPILED:
        if gate(text):
            spans += [Span(m.start(), m.end(), "ADDRESS") for m in pattern.finditer(text)]
    return spans
