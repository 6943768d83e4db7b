"""Tokens → hashed word and within-word character n-gram counts: a numba kernel and a Python twin.

Both paths give the same CSR arrays (sorted unique bucket ids and their counts per text), bucket for
bucket, and both follow scikit-learn's ``HashingVectorizer`` with ``alternate_sign=False``:

* an n-gram's bucket is ``abs(murmurhash3_32(utf8(ngram), seed=0)) % n_buckets`` (signed 32-bit
  MurmurHash3 x86, sklearn's special case for -2**31 included);
* word n-grams are tokens joined by one space (sklearn's ``analyzer="word"``);
* character n-grams are taken within each token padded with one space on both sides, and a token
  shorter than n gives its padded self once (sklearn's ``analyzer="char_wb"``).

Text is encoded as UTF-8 with ``surrogatepass``, so a lone surrogate hashes instead of raising.
The compiled kernel is used when numba imports; ``SOCIALSCORE_NO_NUMBA=1`` forces the Python path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from socialscore.text.preprocess import NO_NUMBA_ENV

_ENCODING = ("utf-8", "surrogatepass")


class HashedCounts:
    """Raw counts of one text batch: CSR arrays (``indptr``, ``indices``, ``counts``) per n-gram kind."""

    __slots__ = ("char", "word")

    def __init__(self, word: tuple[np.ndarray, ...] | None, char: tuple[np.ndarray, ...] | None):
        self.word, self.char = word, char


def compiled_available() -> bool:
    """True when the numba kernel can be used (numba imports and is not switched off)."""
    return compiled_kernel() is not None


def compiled_kernel() -> object | None:
    """The numba kernel, or None when numba does not import or is switched off."""
    if os.environ.get(NO_NUMBA_ENV, "").strip() not in ("", "0"):
        return None
    return _compiled_kernel()


def count_hashed(
    docs: Sequence[list[str]],
    word_range: tuple[int, int] | None,
    char_range: tuple[int, int] | None,
    n_buckets: int,
    compiled: bool | None = None,
) -> HashedCounts:
    """Hashed n-gram counts of tokenised texts (``compiled=None``: numba when available)."""
    use_numba = compiled_available() if compiled is None else compiled
    if use_numba:
        kernel = _compiled_kernel()
        if kernel is None:
            raise RuntimeError("the compiled hashing kernel was requested but numba is not importable")
        return _count_compiled(kernel, docs, word_range, char_range, n_buckets)
    return _count_python(docs, word_range, char_range, n_buckets)


# --- the Python path ------------------------------------------------------------------------------
def bucket_of(gram: str, n_buckets: int) -> int:
    """The bucket of one n-gram (sklearn's HashingVectorizer index, unsigned)."""
    from sklearn.utils import murmurhash3_32

    return _bucket(int(murmurhash3_32(gram.encode(*_ENCODING), seed=0, positive=False)), n_buckets)


def buckets_of(grams: list[str], n_buckets: int) -> list[int]:
    """The buckets of many n-grams (one import, one call per n-gram).

    Without scikit-learn (the serving install) the compiled kernel's MurmurHash3, the same function."""
    try:
        from sklearn.utils import murmurhash3_32
    except ImportError:
        return _buckets_compiled(grams, n_buckets)
    return [_bucket(int(murmurhash3_32(g.encode(*_ENCODING), seed=0, positive=False)), n_buckets) for g in grams]


def _buckets_compiled(grams: list[str], n_buckets: int) -> list[int]:
    from socialscore.modeling.featurizers.hash_numba import _bucket as compiled_bucket

    encoded = [g.encode(*_ENCODING) for g in grams]
    buf = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
    out, start = [], 0
    for piece in encoded:
        out.append(int(compiled_bucket(buf, start, len(piece), n_buckets)))
        start += len(piece)
    return out


def _bucket(signed_hash: int, n_buckets: int) -> int:
    if signed_hash == -(2**31):  # abs(-2**31) overflows int32: sklearn's definition
        return (2**31 - 1 - (n_buckets - 1)) % n_buckets
    return abs(signed_hash) % n_buckets


def word_grams(tokens: list[str], word_range: tuple[int, int]) -> list[str]:
    low, high = word_range
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_grams(word: str, char_range: tuple[int, int]) -> list[str]:
    padded = f" {word} "
    low, high = char_range
    out: list[str] = []
    for n in range(low, high + 1):
        if n >= len(padded):
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


_WORD_CACHE_LIMIT = 500_000


def _count_python(
    docs: Sequence[list[str]], word_range: tuple[int, int] | None, char_range: tuple[int, int] | None, n_buckets: int
) -> HashedCounts:
    word_rows: list[np.ndarray] = []
    char_rows: list[np.ndarray] = []
    cache: dict[str, list[int]] = {}  # a word's char n-gram buckets (words repeat)
    for tokens in docs:
        if word_range:
            word_rows.append(np.asarray(buckets_of(word_grams(tokens, word_range), n_buckets), dtype=np.int64))
        if char_range:
            buckets: list[int] = []
            for word in tokens:
                found = cache.get(word)
                if found is None:
                    if len(cache) > _WORD_CACHE_LIMIT:
                        cache.clear()
                    found = cache[word] = buckets_of(char_grams(word, char_range), n_buckets)
                buckets += found
            char_rows.append(np.asarray(buckets, dtype=np.int64))
    return HashedCounts(
        _rows_to_csr(word_rows) if word_range else None, _rows_to_csr(char_rows) if char_range else None
    )


def _rows_to_csr(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indices, counts = [], []
    for i, row in enumerate(rows):
        unique, count = np.unique(row, return_counts=True)
        indices.append(unique.astype(np.int32))
        counts.append(count.astype(np.float32))
        indptr[i + 1] = indptr[i] + len(unique)
    if not rows:
        return indptr, np.zeros(0, np.int32), np.zeros(0, np.float32)
    return indptr, np.concatenate(indices), np.concatenate(counts)


# --- the compiled path ----------------------------------------------------------------------------
def _count_compiled(
    kernel: object,
    docs: Sequence[list[str]],
    word_range: tuple[int, int] | None,
    char_range: tuple[int, int] | None,
    n_buckets: int,
) -> HashedCounts:
    flat = [t for tokens in docs for t in tokens]
    data = np.frombuffer("".join(flat).encode(*_ENCODING), dtype=np.uint8)
    tok_chars = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    doc_tokens = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    return count_encoded(kernel, data, tok_chars, doc_tokens, word_range, char_range, n_buckets)


def count_encoded(
    kernel: object,
    data: np.ndarray,
    tok_chars: np.ndarray,
    doc_tokens: np.ndarray,
    word_range: tuple[int, int] | None,
    char_range: tuple[int, int] | None,
    n_buckets: int,
    vocabularies: tuple[VocabTable, VocabTable] | None = None,
    cache: TokenCache | None = None,
) -> HashedCounts:
    """The compiled kernel on tokens already encoded: UTF-8 back to back, code points per token, tokens per text.

    ``vocabularies`` (word, char; see :func:`vocabulary_table`): count vocabulary columns instead of
    hash buckets, n-grams outside the vocabulary left out (``n_buckets`` then bounds every column)."""
    wl, wh = word_range or (0, 0)
    cl, ch = char_range or (0, 0)
    w_vocab, c_vocab = vocabularies or (_NO_VOCABULARY, _NO_VOCABULARY)
    cache = cache or TokenCache()
    with cache.lock:
        if cache.used[0] > TokenCache.LIMIT:
            cache.clear()
        w_ptr, w_idx, w_cnt, c_ptr, c_idx, c_cnt, cache.table, cache.keys, cache.ids = kernel(  # type: ignore[operator]
            data, tok_chars, doc_tokens, wl, wh, cl, ch, n_buckets, w_vocab, c_vocab,
            cache.table, cache.keys, cache.ids, cache.used,
        )  # fmt: skip
    return HashedCounts((w_ptr, w_idx, w_cnt) if word_range else None, (c_ptr, c_idx, c_cnt) if char_range else None)


class TokenCache:
    """The compiled kernel's char n-gram columns of each distinct token seen, kept by a featurizer across
    calls (a lone text then looks up its words instead of their n-grams); never pickled."""

    LIMIT = 100_000  # distinct tokens kept, then it starts again (the 40,083 of the shared CSVs took 7.5 MB)

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the kernel releases the GIL and grows these arrays
        self.clear()

    def clear(self) -> None:
        self.table = np.full((1024, 6), -1, np.int32)
        self.keys = np.empty(1 << 12, np.uint8)
        self.ids = np.empty(1 << 14, np.int32)
        self.used = np.zeros(3, np.int64)  # tokens, key bytes, ids


VocabTable = tuple[np.ndarray, np.ndarray, np.ndarray]  # (slots, UTF-8 n-grams back to back, their starts)
_NO_VOCABULARY: VocabTable = (np.zeros((0, 2), np.int64), np.zeros(0, np.uint8), np.zeros(1, np.int64))


def vocabulary_table(grams: Sequence[str]) -> VocabTable:
    """The compiled kernel's look-up table of a vocabulary (column ``i`` is ``grams[i]``); needs numba."""
    from socialscore.modeling.featurizers.hash_numba import vocab_table

    encoded = [g.encode(*_ENCODING) for g in grams]
    starts = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, count=len(encoded)), out=starts[1:])
    data = np.frombuffer(b"".join(encoded), np.uint8).copy()  # writable: the type the kernel is compiled for
    return vocab_table(data, starts), data, starts


_KERNEL: list[object] = []  # [] = not tried yet; [None] = numba unavailable


def _compiled_kernel() -> object | None:
    if not _KERNEL:
        try:
            from socialscore.modeling.featurizers import hash_numba  # imports numba
        except ImportError:
            _KERNEL.append(None)
        else:
            _KERNEL.append(hash_numba.count_batch)
    return _KERNEL[0]


__all__ = [
    "NO_NUMBA_ENV",
    "HashedCounts",
    "TokenCache",
    "bucket_of",
    "buckets_of",
    "char_grams",
    "compiled_available",
    "compiled_kernel",
    "count_encoded",
    "count_hashed",
    "vocabulary_table",
    "word_grams",
]
