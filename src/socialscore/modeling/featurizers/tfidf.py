"""Word and character n-gram TF-IDF (vocabulary, document frequencies, column selection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp


class _NgramTfidf:
    """TF-IDF over n-grams of pre-tokenised texts, built with numpy instead of a Python analyzer.

    Same weighting as sklearn's TfidfVectorizer (smooth idf, optional sublinear tf, L2 rows) and the
    same vocabulary rule (n-grams in >= ``min_df`` training texts, then the ``max_features`` most
    frequent), but several times faster to fit and with little per-call overhead for one text.
    """

    def __init__(self, ngram_range: tuple[int, int], max_features: int | None, min_df: int, sublinear_tf: bool):
        self.ngram_range, self.max_features = tuple(ngram_range), max_features
        self.min_df, self.sublinear_tf = min_df, sublinear_tf

    def _doc_indices(self, tokens: list[str], vocabulary: dict[str, int], grow: bool, out: list[int]) -> None:
        raise NotImplementedError

    _CHUNK = 2000  # texts per chunk: bounds the temporary Python list of column indices

    def _counts(self, docs: Sequence[list[str]], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
        chunks = [self._chunk_counts(docs[i : i + self._CHUNK], vocabulary, grow) for i in range(0, len(docs), self._CHUNK)]
        width = len(vocabulary)
        if not chunks:
            return sp.csr_matrix((0, width), dtype=np.float32)
        for chunk in chunks:  # earlier chunks saw a smaller vocabulary while fitting
            chunk.resize((chunk.shape[0], width))
        return chunks[0] if len(chunks) == 1 else sp.vstack(chunks, format="csr")

    def _chunk_counts(self, docs: Sequence[list[str]], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
        flat: list[int] = []
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        for row, tokens in enumerate(docs):
            self._doc_indices(tokens, vocabulary, grow, flat)
            indptr[row + 1] = len(flat)
        indices = np.asarray(flat, dtype=np.int32)
        counts = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(docs), len(vocabulary))
        )
        counts.sum_duplicates()
        return counts

    def fit_transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        candidates: dict[str, int] = {}
        counts = self._counts(docs, candidates, grow=True)
        return self.fit_parts([(counts, list(candidates))], len(docs))

    def fit_parts(self, parts: list[tuple[sp.csr_matrix, list[str]]], n_docs: int) -> sp.csr_matrix:
        """Fit on raw n-gram counts of consecutive row blocks, each with its own column ``names``.

        Returns the weighted kept columns of all blocks, stacked. The per-entry array work runs in
        one thread per block (numpy releases the GIL).
        """
        vocabulary: dict[str, int] = {}
        to_global = [
            np.fromiter((vocabulary.setdefault(g, len(vocabulary)) for g in names), np.int64, len(names))
            for _, names in parts
        ]
        width = len(vocabulary)
        df = np.zeros(width, dtype=np.int64)
        totals = np.zeros(width, dtype=np.float64)
        for (counts, _), columns, (part_df, part_totals) in zip(
            parts, to_global, _threaded(_column_stats, [counts for counts, _ in parts]), strict=True
        ):
            df[columns] += part_df  # columns is one-to-one within a block
            totals[columns] += part_totals
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(keep) > self.max_features:
            keep = keep[np.argsort(-totals[keep], kind="stable")[: self.max_features]]
        kept_names = np.asarray(list(vocabulary), dtype=object)[keep]
        order = np.argsort(kept_names, kind="stable")  # columns in n-gram order, as sklearn does
        keep, kept_names = keep[order], kept_names[order]
        self.vocabulary_ = {str(g): i for i, g in enumerate(kept_names)}
        self.idf_ = (np.log((1 + n_docs) / (1 + df[keep])) + 1).astype(np.float32)
        self._after_fit()
        final = np.full(width, -1, dtype=np.int32)
        final[keep] = np.arange(len(keep), dtype=np.int32)
        blocks = _threaded(
            lambda counts, columns: self._weight(_select_columns(counts, final[columns], len(keep))),
            [counts for counts, _ in parts],
            to_global,
        )
        return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")

    def _after_fit(self) -> None:
        pass

    def transform(self, docs: Sequence[list[str]]) -> sp.csr_matrix:
        return self._weight(self._counts(docs, self.vocabulary_, grow=False))

    def get_feature_names_out(self) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for gram, i in self.vocabulary_.items():
            names[i] = gram
        return names

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """tf (sublinear) × idf, then each row scaled to unit L2 norm — in place on ``counts``."""
        data = counts.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1
        data *= self.idf_[counts.indices]
        lengths = np.diff(counts.indptr)
        norms = np.ones(counts.shape[0], dtype=np.float64)
        filled = np.flatnonzero(lengths)
        if len(filled):
            norms[filled] = np.sqrt(np.add.reduceat(np.square(data, dtype=np.float64), counts.indptr[filled]))
        data /= np.repeat(norms.astype(np.float32), lengths)
        return counts


class WordNgramTfidf(_NgramTfidf):
    """Word n-grams (tokens joined by spaces)."""

    def _doc_indices(self, tokens: list[str], vocabulary: dict[str, int], grow: bool, out: list[int]) -> None:
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        if grow:
            out += [vocabulary.setdefault(g, len(vocabulary)) for g in grams]
        else:
            out += [i for i in map(vocabulary.get, grams) if i is not None]


class CharNgramTfidf(_NgramTfidf):
    """Character n-grams within words, padded with spaces (sklearn's ``char_wb``).

    A text's n-gram counts are the sum of its words' counts, and words repeat, so each word's
    n-gram column indices are computed once and cached (not pickled; rebuilt on demand).
    """

    _CACHE_LIMIT = 500_000

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    def _grams(self, word: str) -> list[str]:
        padded = f" {word} "
        low, high = self.ngram_range
        out: list[str] = []
        for n in range(low, high + 1):
            if n >= len(padded):
                out.append(padded)
                break
            out.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
        return out

    def _after_fit(self) -> None:
        self._cache = {}

    def _counts(self, docs: Sequence[list[str]], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
        if not grow:  # transform touches only the shared word cache (atomic dict operations): thread-safe
            return super()._counts(docs, vocabulary, grow)
        self._fit_cache: dict[str, list[int]] = {}
        try:
            return super()._counts(docs, vocabulary, grow)
        finally:
            del self._fit_cache

    def _doc_indices(self, tokens: list[str], vocabulary: dict[str, int], grow: bool, out: list[int]) -> None:
        cache = self._fit_cache if grow else self.__dict__.setdefault("_cache", {})
        if len(cache) > self._CACHE_LIMIT:
            cache.clear()
        for word in tokens:
            idx = cache.get(word)
            if idx is None:
                grams = self._grams(word)
                if grow:
                    idx = [vocabulary.setdefault(g, len(vocabulary)) for g in grams]
                else:
                    idx = [i for i in map(vocabulary.get, grams) if i is not None]
                cache[word] = idx
            out += idx


def _threaded(function: Any, *columns: list[Any]) -> list[Any]:
    """``[function(*args) for args in zip(*columns)]``, one thread per item when there are several."""
    calls = list(zip(*columns, strict=True))
    if len(calls) < 2:
        return [function(*args) for args in calls]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda args: function(*args), calls))


def _column_stats(counts: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Per column: in how many rows it occurs, and its total count."""
    width = counts.shape[1]
    return (
        np.bincount(counts.indices, minlength=width),
        np.bincount(counts.indices, weights=counts.data, minlength=width),
    )


def _select_columns(counts: sp.csr_matrix, new_column: np.ndarray, width: int) -> sp.csr_matrix:
    """Column j of ``counts`` becomes column ``new_column[j]`` (dropped where -1), in one linear pass."""
    columns = new_column[counts.indices]
    kept = columns >= 0
    if kept.all():
        return sp.csr_matrix((counts.data, columns, counts.indptr), shape=(counts.shape[0], width))
    cumulative = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    return sp.csr_matrix(
        (counts.data[kept], columns[kept], cumulative[counts.indptr]), shape=(counts.shape[0], width)
    )
