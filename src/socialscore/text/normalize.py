"""Storage normalisation: one canonical form of a comment before it is hashed, scrubbed and stored.

NFKC by default: it folds full-width, ligature and "mathematical bold" letters to plain ones, which
moderation wants (``ｉｄｉｏｔ`` and ``𝐢𝐝𝐢𝐨𝐭`` are ``idiot``). Serving should apply the same function.
"""

from __future__ import annotations

import re
import unicodedata

# Control and invisible format characters (Cc except whitespace, Cf, lone surrogates, tag characters).
# Zero-width characters are dropped because they are a common filter-evasion trick ("id\u200biot").
INVISIBLE_CHARS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}\ud800-\udfff]")


def normalize_text(text: object, form: str = "NFKC") -> str:
    """Unicode ``form``, invisible characters dropped, whitespace runs → one space, stripped.

    ``None``/NaN become ``""``. Idempotent: ``normalize_text(normalize_text(x)) == normalize_text(x)``.
    """
    if not isinstance(text, str):
        return ""
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
        text = unicodedata.normalize(form, text)
    elif not text.isprintable():
        text = _INVISIBLE.sub("", text)
    # str.split() splits on exactly the characters regex \s matches (Py_UNICODE_ISSPACE), runs
    # collapsed and both ends dropped: re.sub(r"\s+", " ", text).strip() at a tenth of the cost
    return " ".join(text.split())
