"""Storage normalisation: Unicode form, invisible characters, whitespace."""

import pytest

from socialscore.text.normalize import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello \t world \n", "hello world"),
        ("line one\r\nline two", "line one line two"),
        ("ｉｄｉｏｔ", "idiot"),  # full-width
        ("𝐢𝐝𝐢𝐨𝐭", "idiot"),  # mathematical bold
        ("id\u200biot", "idiot"),  # zero-width space
        ("a\x00b\x07c", "abc"),  # NUL and control characters
        ("cafe\u0301", "café"),  # composed
        ("\ufeffstart", "start"),  # BOM inside text
        ("evil\u202eright-to-left", "evilright-to-left"),
        ("lone \ud800 surrogate", "lone surrogate"),
        (None, ""),
        (float("nan"), ""),
        ("   ", ""),
    ],
)
def test_normalize_text(raw: object, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_nfc_keeps_compatibility_characters() -> None:
    assert normalize_text("ｉｄ²", form="NFC") == "ｉｄ²"
    assert normalize_text("ｉｄ²", form="NFKC") == "id2"


@pytest.mark.parametrize("raw", ["  A  b ", "ｆｕｌｌ width\u200b", "émoji 🙂 ok", "x\x00y"])
def test_idempotent(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once
