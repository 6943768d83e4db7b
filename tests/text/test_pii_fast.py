"""The serving path's cheaper gates (``find_pii``) give exactly the spans of the reference gates
(``find_pii(fast=False)``) on hostile and real texts."""

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from socialscore.text.normalize import normalize_text
from socialscore.text.pii import address, find_pii, prescan, web

# fragments that each wake some detector, its gate, or a look-alike of either
_FRAGMENTS = [
    "john.doe+x@example.co.uk", "f@ck", "@bob_1", "@@", "a@b", "user@localhost", "@", "@john.doe.",
    "john dot doe at gmail dot com", "john(at)example(dot)org", "john [at] example [dot] org", "AT", "aT)",
    "at>", "at}", "at]", "Dot", "DOT", " at ", "look at example.com", "(at", "[AT]", "x<at>y{dot}z",
    "https://en.wikipedia.org/wiki/Foo)", "HTTP://X.Y", "WWW.EXAMPLE.COM", "www.", "://", "ftp://a", "bit.ly/3xYz",
    "example.xyz/about", "setup.py", "e.g.", "U.S.", "v1.2.3", "1.2.3.4.5", "89.205.38.27", "10.0.0.1",
    "256.1.1.1", "1.2.3", "2001:db8:85a3::8a2e:370:7334", "::1", "a:b:c:d", "fe80::1", "12:30:45", "std::vector",
    "555-123-4567", "(555) 123-4567", "+44 20 7946 0958", "0044 20 7946 0958", "020 7946 0958", "ruf 030 901820",
    "4111 1111 1111 1111", "4111-1111-1111-1111", "1234 5678 9012 3456", "536-22-1234", "123.456.789-09",
    "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "12345678Z", "X1234567L", "ABCDE1234F",
    "RSSMRA85T10A562S", "978-3-16-148410-0", "2016-01-11", "11/01/2016", "1990-2000", "$1,299.99", "24/7",
    "221B Baker Street", "1600 Pennsylvania Ave NW", "10 Downing St.", "Hauptstraße 5", "Berliner Str. 12a",
    "Lindenweg 3", "am Ring 7", "12 rue de la Paix", "3bis boulevard Voltaire", "5 avenue des Champs-Élysées",
    "Calle Mayor 10", "Via Roma 1", "Avenida Paulista 1578", "Rua Augusta 200", " Street", " St 5", "Street",
    "１２３", "٣٤٥", "𝟏𝟐𝟑", "ｗｗｗ．", "＠", "İ", "Σ", "K", "\u200b", "Ｊohn", "ß", "ǅ", "\t", "\n", "  ",
    "[EMAIL]", "[PERSON]", "(", ")", "[", "]", "{", "}", "<", ">", ".", ",", ":", "/", "-", "+", "#", "=",
    "0", "1", "9", "00", "A1", "1A", "Z9", "hello", "The", "I", "idiot", "dot", "at", "tod", "in", "it",
]


def _hostile(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        pieces = rng.choices(_FRAGMENTS, k=rng.randint(1, 12))
        glue = rng.choice([" ", "", ", ", "\n", ".", " - "])
        text = glue.join(pieces)
        if rng.random() < 0.3:  # digits-heavy
            text += " " + "".join(rng.choice("0123456789 .-/()") for _ in range(rng.randint(5, 40)))
        if rng.random() < 0.2:  # case flips reach the case-insensitive gates
            text = text.swapcase() if rng.random() < 0.5 else text.upper()
        texts.append(text)
    return texts


def _assert_same(texts: list[str]) -> None:
    for text in texts:
        assert find_pii(text) == find_pii(text, fast=False), text
        normal = normalize_text(text)
        if normal != text:
            assert find_pii(normal) == find_pii(normal, fast=False), normal


def test_fast_gates_equal_the_reference_on_hostile_texts() -> None:
    texts = _hostile(21, 800)  # phonenumbers makes each text ~1 ms
    texts += json.loads((Path(__file__).parent / "hostile_texts.json").read_text(encoding="utf-8"))
    texts += _FRAGMENTS
    _assert_same(texts)
    assert sum(bool(find_pii(t)) for t in texts) > 400  # the corpus reaches the detectors


def test_fast_gates_equal_the_reference_on_real_comments(shared_file) -> None:
    frame = pd.read_csv(shared_file("data/jigsaw/cleaned_training_sample.csv"), keep_default_na=False)
    _assert_same(frame["anonymized_comment"].astype(str).tolist()[:3000])


@pytest.mark.parametrize(
    ("fast", "reference", "texts"),
    [
        (prescan.obfuscation_gate, web.obfuscation_gate, ["x (AT) y", "x at] y", "a{aT} b", "a at> b", "DoT", "a AT b.", "a at b"]),
        (prescan.ip_gate, web.ip_gate, ["1.2.3.4", "a:b:c:", "f::1", "::", "1:2:", "x.1.2.3"]),
        (prescan.scheme_gate, lambda t: "://" in t or "www." in t or "WWW." in t, ["a://b", "www.x", "WWW.X", "Www.x", ":/"]),
    ],
)
def test_each_fast_gate_agrees_with_its_reference(fast, reference, texts) -> None:
    for text in texts + _hostile(7, 300):
        assert bool(fast(text)) == bool(reference(text)), text


def test_address_gates_with_a_look_ahead_match_the_same() -> None:
    for (fast, _), (reference, _) in zip(address._FAST, address._COMPILED, strict=True):
        for text in _hostile(9, 500) + ["at 5 Street", "x rue y", "221B Baker Street", " Sq", " Alley"]:
            assert bool(fast(text)) == bool(reference(text)), text
