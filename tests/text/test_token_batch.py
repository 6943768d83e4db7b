"""The compiled batch tokeniser gives exactly the per-text tokens, hostile Unicode included."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from socialscore.text import preprocess
from socialscore.text.preprocess import TextPreprocessor

needs_numba = pytest.mark.skipif(preprocess._token_kernel() is None, reason="numba is not importable")

# look-alikes, combining marks, emoji, RTL and bidi controls, zero-width characters, final sigma,
# expanding lower-case, non-ASCII digits, lone surrogates, underscores, very long words, control characters
HOSTILE = json.loads((Path(__file__).parent / "hostile_texts.json").read_text(encoding="utf-8"))


@needs_numba
@pytest.mark.parametrize(
    "settings",
    [None, {"lowercase": False}, {"normalize_leetspeak": False}, {"normalize_elongation": False}],
)
def test_batch_tokens_equal_per_text_tokens_on_hostile_unicode(settings) -> None:
    pre = TextPreprocessor(settings)
    assert pre.token_batch(HOSTILE) is not None  # the compiled pass, not the fallback
    assert pre.tokens_batch(HOSTILE) == [pre.tokens(t) for t in HOSTILE]


@needs_numba
def test_batch_tokens_equal_per_text_tokens_on_random_text() -> None:
    rng = random.Random(7)
    alphabet = "aAbzZ019345678@$*'’_[]!?. \t\n-" + "іｉı\u0301\u200bΣσςİ٣²🙂\ud800ß\u212a" + "".join(map(chr, range(0x80, 0x2FF)))
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80))) for _ in range(3000)]
    pre = TextPreprocessor()
    assert pre.tokens_batch(texts) == [pre.tokens(t) for t in texts]


def test_batch_falls_back_where_the_compiled_pass_does_not_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["a\x00b", "Hello there 1d10t"]
    pre = TextPreprocessor()
    assert pre.token_batch(texts) is None  # U+0000 separates texts in the joined batch
    assert pre.tokens_batch(texts) == [["a", "b"], ["hello", "there", "idiot"]]
    assert TextPreprocessor({"tokenizer": "tweet"}).token_batch(texts[1:]) is None
    monkeypatch.setenv(preprocess.NO_NUMBA_ENV, "1")
    assert pre.token_batch(texts[1:]) is None
    assert pre.tokens_batch(texts[1:]) == [["hello", "there", "idiot"]]


@pytest.mark.slow
@needs_numba
def test_code_point_table_matches_the_re_module() -> None:
    from socialscore.text.token_numba import ALPHA, DIGIT, WORD, code_point_flags

    flags = code_point_flags()
    every = "".join(map(chr, range(len(flags))))
    for bit, pattern in ((WORD, r"\w"), (DIGIT, r"\d")):
        expected = np.zeros(len(flags), bool)
        expected[[m.start() for m in re.finditer(pattern, every)]] = True
        assert np.array_equal((flags & bit) != 0, expected)
    assert ((flags & ALPHA) != 0).sum() == sum(map(str.isalpha, every))


@needs_numba
def test_batch_utf8_and_counts_describe_the_tokens() -> None:
    pre = TextPreprocessor()
    batch = pre.token_batch(HOSTILE)
    assert batch.utf8.tobytes() == "".join(batch.flat).encode("utf-8", "surrogatepass")
    assert batch.tok_chars.tolist() == [len(t) for t in batch.flat]
    assert batch.doc_tokens.tolist() == [len(pre.tokens(t)) for t in HOSTILE]


@needs_numba
def test_elongations_are_shortened_before_lower_casing_as_per_text() -> None:
    texts = ["aAAA aaaA AAAAa Σσσσ", "ﬀﬀﬀ İİİ aaaa", "soooo ΣΑΣΣΣ"]  # the second text's lower-case form is longer
    for settings in (None, {"lowercase": False}):
        pre = TextPreprocessor(settings)
        assert pre.tokens_batch(texts) == [pre.tokens(t) for t in texts]
        assert pre.tokens_batch(texts[::2]) == [pre.tokens(t) for t in texts[::2]]


@needs_numba
def test_batch_tokens_equal_per_text_tokens_on_random_code_points() -> None:
    rng = random.Random(11)
    planes = [(0x20, 0x7F), (0x80, 0x2FFF), (0x3000, 0xD7FF), (0xD800, 0xDFFF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF)]

    def char() -> str:
        low, high = rng.choice(planes)
        return chr(rng.randint(low, high)) if rng.random() < 0.5 else rng.choice("aA1$@*'’[]_ İΣ")

    texts = ["".join(char() for _ in range(rng.randrange(0, 40))) for _ in range(3000)]
    texts = [t.replace("\x00", "") for t in texts]
    pre = TextPreprocessor()
    assert pre.tokens_batch(texts) == [pre.tokens(t) for t in texts]
