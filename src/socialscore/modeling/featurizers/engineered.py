"""Engineered features: placeholder counts, the toxicity lexicon, shouting, punctuation runs, elongation."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from socialscore.text.preprocess import PLACEHOLDER_RE

# Placeholders counted one by one when text/pii.py does not (yet) export its list.
DEFAULT_PLACEHOLDERS = ("[EMAIL]", "[URL]", "[USER]", "[PERSON]", "[PHONE]", "[IP]")
# A small built-in lexicon of insults and profanity (matched on normalised tokens, so leetspeak
# and elongations are undone first). Kept short on purpose: the n-grams do the heavy lifting.
LEXICON = frozenset(
    """
    idiot idiots idiotic moron morons moronic stupid stupidity dumb dumbass dummy imbecile retard
    retarded loser losers fool foolish pathetic worthless useless ignorant clown jerk scum scumbag
    trash garbage disgusting ugly fat pig pigs rat vermin parasite hypocrite liar liars coward
    fuck fucking fucked fucker fuckers fuckin fck fuk f*ck motherfucker shit shitty bullshit sh*t
    crap damn hell ass asses asshole assholes arse arsehole bitch bitches bastard bastards dick dicks
    dickhead cock cunt cunts prick twat wanker douche douchebag piss pissed slut sluts whore whores
    suck sucks sucker nazi nazis fag fags faggot faggots gay homo nigger niggers nigga negro
    kill die death hang shoot rape raped murder burn hate hated hateful
    shut shutup stfu gtfo wtf omfg screw screwed
    """.split()
)
PUNCT_RUN_RE = re.compile(r"[!?.]{2,}")
ELONGATED_RE = re.compile(r"([a-zA-Z])\1\1+")


def known_placeholders() -> tuple[str, ...]:
    """H1's PII placeholder list when text/pii.py exists, else the built-in default."""
    try:
        from socialscore.text.pii import PLACEHOLDERS  # type: ignore[attr-defined]
    except Exception:  # absent or not importable yet: use the default list
        return DEFAULT_PLACEHOLDERS
    values = PLACEHOLDERS.values() if isinstance(PLACEHOLDERS, dict) else PLACEHOLDERS
    return tuple(sorted({str(v) for v in values})) or DEFAULT_PLACEHOLDERS


def lexicon_for(features: Any) -> frozenset[str]:
    """The insult lexicon for ``features`` settings: identity terms (e.g. "gay") out unless kept."""
    if getattr(features, "identity_terms_in_lexicon", True):
        return LEXICON
    from socialscore.modeling.behaviour.probes import without_identity_terms

    return without_identity_terms(LEXICON)


def _placeholder_name(token: str) -> str:
    return token.strip("[]").lower()


ENGINEERED_BASE = (
    "log_chars",
    "log_words",
    "exclamations",
    "questions",
    "punct_runs",
    "max_punct_run",
    "elongations",
    "placeholders",
    "lexicon_hits",
    "lexicon_share",
)


def engineered_names(placeholders: Sequence[str]) -> list[str]:
    """Names of the engineered columns (without the ``eng__`` prefix), for these placeholders."""
    return list(ENGINEERED_BASE) + [f"placeholder_{_placeholder_name(p)}" for p in placeholders]


def engineered_features(
    raw: Sequence[str], tokenised: Sequence[list[str]], placeholders: Sequence[str], lexicon: frozenset[str] = LEXICON
) -> np.ndarray:
    """The unscaled engineered features of raw texts and their tokens, one float32 row per text
    (``lexicon``: the insult words counted; pickles from before the option use the full list)."""
    index = {p: i for i, p in enumerate(placeholders)}
    n_base = len(ENGINEERED_BASE)
    out = np.zeros((len(raw), n_base + len(index)), dtype=np.float32)
    for row, (text, tokens) in enumerate(zip(raw, tokenised, strict=True)):
        text = text.strip()  # scores must not depend on trailing whitespace
        if not text:
            continue
        runs = PUNCT_RUN_RE.findall(text)
        found = PLACEHOLDER_RE.findall(text)
        hits = sum(1 for t in tokens if t in lexicon)
        out[row, :n_base] = (
            math.log1p(len(text)),
            math.log1p(len(tokens)),
            math.log1p(text.count("!")),
            math.log1p(text.count("?")),
            math.log1p(len(runs)),
            math.log1p(max(map(len, runs), default=0)),
            math.log1p(len(ELONGATED_RE.findall(text))),
            math.log1p(len(found)),
            math.log1p(hits),
            hits / len(tokens) if tokens else 0.0,
        )
        for token in found:
            col = index.get(token.upper())
            if col is not None:
                out[row, n_base + col] += 1.0
    out[:, n_base:] = np.log1p(out[:, n_base:])
    return out


@functools.cache
def _log1p_table() -> np.ndarray:
    return np.fromiter(map(math.log1p, range(1 << 16)), np.float64, count=1 << 16)


@functools.lru_cache(maxsize=4)
def _sorted_lexicon(lexicon: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    from socialscore.text.token_numba import sorted_words

    return sorted_words(lexicon)


def engineered_batch(
    raw: Sequence[str], batch: Any, placeholders: Sequence[str], lexicon: frozenset[str]
) -> np.ndarray:
    """:func:`engineered_features` (same values) from a :class:`~socialscore.text.preprocess.TokenBatch`
    and the compiled kernels of :mod:`socialscore.text.token_numba`: per-batch arrays, not per-text Python."""
    from socialscore.text.token_numba import engineered_rows

    index = {p: i for i, p in enumerate(placeholders)}
    n_base, n = len(ENGINEERED_BASE), len(raw)
    texts = [t.strip() for t in raw]
    chars = np.fromiter(map(len, texts), np.int64, count=n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    out = np.zeros((n, n_base + len(index)), dtype=np.float32)
    found = np.zeros(n, np.int64)
    for row in (i for i, t in enumerate(texts) if "[" in t):
        tokens = PLACEHOLDER_RE.findall(texts[row])
        found[row] = len(tokens)
        for token in tokens:
            col = index.get(token.upper())
            if col is not None:
                out[row, n_base + col] += 1.0
    if found.any():
        out[:, n_base:] = np.log1p(out[:, n_base:])  # log1p(0) is 0: nothing to do without placeholders
    words, offsets = _sorted_lexicon(lexicon)
    counts = np.zeros((n, n_base - 1), np.int64)
    engineered_rows(cps, chars, batch.utf8, batch.tok_chars, batch.doc_tokens, words, offsets, found, _log1p_table(), out, counts)
    if chars.max(initial=0) >= len(_log1p_table()):  # counts past the table: Python's own log1p
        rows, columns = np.nonzero(np.isnan(out[:, : n_base - 1]))
        out[rows, columns] = [math.log1p(c) for c in counts[rows, columns].tolist()]
    return out
