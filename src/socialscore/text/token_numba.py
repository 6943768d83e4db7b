"""The compiled twin of :meth:`socialscore.text.preprocess.TextPreprocessor.tokens` for the default rules.

One pass over a batch's code points (texts joined by U+0000, lower-cased and de-elongated by the
caller) runs ``WORD_RE``'s leftmost-first matching as a hand-written scanner, upper-cases
placeholders and undoes leetspeak by ``_unleet``'s rules. Unicode classes come from a per-code-point
table built with the same ``str`` predicates the ``re`` module uses (``\\w``: ``isalnum`` or "_";
``\\d``: ``isdecimal``), so Python's Unicode version is the one applied.
"""

from __future__ import annotations

import numba
import numpy as np

WORD, DIGIT, ALPHA = 1, 2, 4  # flag bits per code point: \w, \d, str.isalpha
N_CODE_POINTS = 0x110000
_LEET = np.full(128, -1, np.int64)  # ASCII code point → its letter (preprocess.LEET_TABLE), else -1
_LEET[[ord(c) for c in "013457@$"]] = [ord(c) for c in "oieastas"]


def code_point_flags() -> np.ndarray:
    """uint8 flags (WORD | DIGIT | ALPHA) of every code point (~0.05 CPU s: build once per process)."""
    every = np.arange(N_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    alnum = np.fromiter(map(str.isalnum, every), np.bool_, count=N_CODE_POINTS)
    flags = alnum.astype(np.uint8) * np.uint8(WORD)
    flags[ord("_")] |= WORD
    # decimal digits and letters are alphanumeric: test only those ~1/8 of the code points
    candidates = np.flatnonzero(alnum)
    chars = "".join(every[i] for i in candidates.tolist())
    flags[candidates] |= np.fromiter(map(str.isdecimal, chars), np.uint8, count=len(chars)) * np.uint8(DIGIT)
    flags[candidates] |= np.fromiter(map(str.isalpha, chars), np.uint8, count=len(chars)) * np.uint8(ALPHA)
    return flags


def jit_cached(function):
    """``numba.njit`` (no GIL), cached on disk where the package directory or user cache is writable."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache location (read-only install): compile per process
        return numba.njit(cache=False, nogil=True)(function)


@jit_cached
def _ascii_letter(c) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


@jit_cached
def _wordx(c, flags) -> bool:  # [\w@$]
    return (flags[c] & 1) != 0 or c == 64 or c == 36


@jit_cached
def _letter(c, flags) -> bool:  # [^\W\d_]
    return (flags[c] & 3) == 1 and c != 95


@jit_cached
def _match_end(cps, i, flags) -> int:
    """End of ``WORD_RE``'s match at ``i`` (placeholder first, then word), or -1."""
    n = len(cps)
    if cps[i] == 91 and i + 1 < n and _ascii_letter(cps[i + 1]):
        j = i + 2
        while j < n and (_ascii_letter(cps[j]) or cps[j] == 95):
            j += 1
        if j < n and cps[j] == 93:
            return j + 1
    j = i
    while j < n and (cps[j] == 64 or cps[j] == 36):
        j += 1
    if j >= n or (flags[cps[j]] & 1) == 0 or cps[j] == 95:
        return -1
    j += 1
    while j < n and _wordx(cps[j], flags):
        j += 1
    while True:  # (?:\*+[\w@$]+)*
        k = j
        while k < n and cps[k] == 42:
            k += 1
        if k == j or k >= n or not _wordx(cps[k], flags):
            break
        j = k
        while j < n and _wordx(cps[j], flags):
            j += 1
    while j + 1 < n and (cps[j] == 39 or cps[j] == 0x2019) and _wordx(cps[j + 1], flags):  # (?:['’][\w@$]+)*
        j += 2
        while j < n and _wordx(cps[j], flags):
            j += 1
    return j


@jit_cached
def _not_leet(cps, a, b, flags) -> bool:
    """``NOT_LEET_RE.fullmatch``: digits then at most 2 letters, or letters then digits."""
    j = a
    while j < b and (flags[cps[j]] & 2) != 0:
        j += 1
    if j > a:
        if b - j > 2:
            return False
        for k in range(j, b):
            if not _letter(cps[k], flags):
                return False
        return True
    while j < b and _letter(cps[j], flags):
        j += 1
    if j == a or j == b:
        return False
    for k in range(j, b):
        if (flags[cps[k]] & 2) == 0:
            return False
    return True


@jit_cached
def _leet_letter(c) -> int:
    return _LEET[c] if c < 128 else -1


@jit_cached
def _utf8_put(out, at, c) -> int:
    """UTF-8 of code point ``c`` at ``out[at:]`` (lone surrogates as 3 bytes, like ``surrogatepass``)."""
    if c < 0x80:
        out[at] = c
        return at + 1
    if c < 0x800:
        out[at], out[at + 1] = 0xC0 | (c >> 6), 0x80 | (c & 0x3F)
        return at + 2
    if c < 0x10000:
        out[at], out[at + 1], out[at + 2] = 0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F)
        return at + 3
    out[at], out[at + 1] = 0xF0 | (c >> 18), 0x80 | ((c >> 12) & 0x3F)
    out[at + 2], out[at + 3] = 0x80 | ((c >> 6) & 0x3F), 0x80 | (c & 0x3F)
    return at + 4


@jit_cached
def _shorten_elongations(cps, orig):
    """``cps`` without the 3rd and later of each run of one ASCII letter in ``orig`` (``ELONGATION_RE``
    → ``\\1\\1``); ``cps`` is ``orig`` lower-cased code point for code point."""
    out = np.empty(len(cps), np.uint32)
    at = 0
    for i in range(len(cps)):
        c = orig[i]
        if i < 2 or c != orig[i - 1] or c != orig[i - 2] or not _ascii_letter(c):
            out[at] = cps[i]
            at += 1
    return out[:at]


@jit_cached
def tokenise(cps, orig, n_docs, flags, leet, elongation):
    """Tokens of ``n_docs`` texts joined by 0 in ``cps`` (uint32 code points, lower-cased as wanted).

    ``orig``: the code points before lower-casing (same length), whose runs ``elongation`` shortens.
    Returns the tokens' code points each followed by 0, their UTF-8 bytes back to back, code points
    per token and tokens per text.
    """
    if elongation:
        cps = _shorten_elongations(cps, orig)
    n = len(cps)
    tok_cps = np.empty(2 * n + 1, np.uint32)  # tokens + one 0 each (a token has >= 1 code point)
    utf8 = np.empty(4 * n, np.uint8)
    tok_chars = np.empty(n + 1, np.int64)
    doc_tokens = np.zeros(n_docs, np.int64)
    i, d, out, out8, n_tok = 0, 0, 0, 0, 0
    while i < n:
        c = cps[i]
        if c == 0:
            d += 1
            i += 1
            continue
        end = _match_end(cps, i, flags)
        if end < 0:
            i += 1
            continue
        placeholder = c == 91 and cps[end - 1] == 93
        translate = False
        if leet and not placeholder:
            alpha, has_leet, has_letter = True, False, False
            for k in range(i, end):
                ck = cps[k]
                alpha = alpha and (flags[ck] & 4) != 0
                has_leet = has_leet or _leet_letter(ck) >= 0
                has_letter = has_letter or _letter(ck, flags)
            translate = not alpha and has_leet and has_letter and not _not_leet(cps, i, end, flags)
        for k in range(i, end):
            ck = np.int64(cps[k])
            if placeholder and 97 <= ck <= 122:
                ck -= 32
            elif translate:
                letter = _leet_letter(ck)
                if letter >= 0:
                    ck = letter
            tok_cps[out] = ck
            out += 1
            out8 = _utf8_put(utf8, out8, ck)
        tok_cps[out] = 0
        out += 1
        tok_chars[n_tok] = end - i
        n_tok += 1
        doc_tokens[d] += 1
        i = end
    return tok_cps[:out].copy(), utf8[:out8].copy(), tok_chars[:n_tok].copy(), doc_tokens


@jit_cached
def text_stats(cps, doc_chars):
    """Per text (``doc_chars`` code points each, back to back in ``cps``): "!" and "?" counts,
    runs of 2+ of ``[!?.]`` and the longest, runs of 3+ of one ASCII letter (``ELONGATED_RE``)."""
    out = np.zeros((len(doc_chars), 5), np.int64)
    pos = 0
    for d in range(len(doc_chars)):
        end = pos + doc_chars[d]
        run, same, prev = 0, 0, -1
        for i in range(pos, end + 1):  # one step past the end closes the last runs
            c = np.int64(cps[i]) if i < end else -2
            if c == 33:
                out[d, 0] += 1
            elif c == 63:
                out[d, 1] += 1
            if c == 33 or c == 63 or c == 46:
                run += 1
            else:
                if run >= 2:
                    out[d, 2] += 1
                    out[d, 3] = max(out[d, 3], run)
                run = 0
            if c == prev and _ascii_letter(c):
                same += 1
            else:
                if same >= 3:
                    out[d, 4] += 1
                same = 1
            prev = c
        pos = end
    return out


def sorted_words(words) -> tuple[np.ndarray, np.ndarray]:
    """Words as :func:`count_words` takes them: UTF-8 bytes back to back in byte order, and offsets."""
    encoded = sorted(w.encode("utf-8", "surrogatepass") for w in words)
    offsets = np.zeros(len(encoded) + 1, np.int64)
    offsets[1:] = np.cumsum([len(w) for w in encoded])
    return np.frombuffer(b"".join(encoded), np.uint8), offsets


@jit_cached
def _compare(a, a0, a1, b, b0, b1) -> int:
    for k in range(min(a1 - a0, b1 - b0)):
        if a[a0 + k] != b[b0 + k]:
            return -1 if a[a0 + k] < b[b0 + k] else 1
    return (a1 - a0) - (b1 - b0)


@jit_cached
def count_words(utf8, tok_chars, doc_tokens, words, offsets):
    """Per text, its tokens (UTF-8 back to back, ``tok_chars`` code points each) found among the
    sorted ``words`` (:func:`sorted_words`): a binary search per token."""
    out = np.zeros(len(doc_tokens), np.int64)
    pos, t = 0, 0
    for d in range(len(doc_tokens)):
        for _ in range(doc_tokens[d]):
            start = pos
            for _ in range(tok_chars[t]):
                c = utf8[pos]
                pos += 1 if c < 0x80 else 2 if c >> 5 == 6 else 3 if c >> 4 == 14 else 4
            t += 1
            lo, hi = 0, len(offsets) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                order = _compare(words, offsets[mid], offsets[mid + 1], utf8, start, pos)
                if order == 0:
                    out[d] += 1
                    break
                if order < 0:
                    lo = mid + 1
                else:
                    hi = mid
    return out


@jit_cached
def engineered_rows(cps, doc_chars, utf8, tok_chars, doc_tokens, words, offsets, found, log1p_table, out, counts):
    """The engineered features' base columns into ``out`` (float32, zeroed): ``log1p`` (by
    ``log1p_table``) of the ``counts`` it writes (characters, tokens, :func:`text_stats`' five,
    ``found`` placeholders, lexicon hits by :func:`count_words`), then hits per token. NaN where a count
    is past the table (the caller fills those); a text without characters keeps a zero row."""
    stats = text_stats(cps, doc_chars)
    hits = count_words(utf8, tok_chars, doc_tokens, words, offsets)
    n_table = len(log1p_table)
    for d in range(len(doc_chars)):
        if doc_chars[d] == 0:
            continue
        values = (doc_chars[d], doc_tokens[d], stats[d, 0], stats[d, 1], stats[d, 2], stats[d, 3], stats[d, 4],
                  found[d], hits[d])  # fmt: skip
        for j in range(9):
            counts[d, j] = values[j]
            out[d, j] = log1p_table[values[j]] if values[j] < n_table else np.nan
        if doc_tokens[d] > 0:
            out[d, 9] = hits[d] / doc_tokens[d]
