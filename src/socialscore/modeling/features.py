"""Text → sparse features: preprocessing, word and character TF-IDF, named engineered features.

:class:`FeatureBuilder` is fitted on the train split and pickled with the model bundle, so serving
turns a raw comment into exactly the features the model was trained on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import ConfigError
from socialscore.text.preprocess import PLACEHOLDER_RE, TextPreprocessor

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


def common_settings(settings: Any, nltk_cache_dir: Path | None = None) -> dict[str, Any]:
    """The constructor arguments every featuriser (vocabulary or hashing) takes from the settings."""
    f = settings.features
    return {
        "preprocess": settings.preprocess,
        "word_ngram_range": f.word_ngram_range,
        "char_ngram_range": f.char_ngram_range,
        "min_df": f.min_df,
        "sublinear_tf": f.sublinear_tf,
        "engineered": f.engineered,
        "nltk_cache_dir": nltk_cache_dir,
        "n_jobs": f.n_jobs,
        "lexicon": lexicon_for(f),
    }


def lexicon_for(features: Any) -> frozenset[str]:
    """The insult lexicon for ``features`` settings: identity terms (e.g. "gay") out unless kept."""
    if getattr(features, "identity_terms_in_lexicon", True):
        return LEXICON
    from socialscore.modeling.mitigation import without_identity_terms

    return without_identity_terms(LEXICON)


def _placeholder_name(token: str) -> str:
    return token.strip("[]").lower()


class FeatureBuilder:
    """An sklearn-style transformer from raw texts to a CSR matrix (float32).

    Columns: ``word__<ngram>``, ``char__<ngram>``, then ``eng__<name>`` engineered features scaled
    to about [0, 1] by their maximum on the training texts. Nothing depends on letter case or on
    surrounding whitespace (a share-of-capitals feature was left out for that reason).
    """

    def __init__(
        self,
        preprocess: Any = None,
        word_ngram_range: tuple[int, int] | None = (1, 2),
        word_max_features: int | None = 200_000,
        char_ngram_range: tuple[int, int] | None = (2, 5),
        char_max_features: int | None = 200_000,
        min_df: int = 2,
        sublinear_tf: bool = True,
        engineered: bool = True,
        nltk_cache_dir: Path | None = None,
        n_jobs: int = 1,
        lexicon: frozenset[str] | None = None,
    ) -> None:
        self.preprocessor = (
            preprocess if isinstance(preprocess, TextPreprocessor) else TextPreprocessor(preprocess, nltk_cache_dir)
        )
        self.word_ngram_range = tuple(word_ngram_range) if word_ngram_range else None
        self.word_max_features = word_max_features
        self.char_ngram_range = tuple(char_ngram_range) if char_ngram_range else None
        self.char_max_features = char_max_features
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.engineered = engineered
        self.n_jobs = n_jobs
        self.lexicon = frozenset(lexicon) if lexicon is not None else LEXICON
        for name, value in (("word_ngram_range", self.word_ngram_range), ("char_ngram_range", self.char_ngram_range)):
            if value and not 1 <= value[0] <= value[1]:
                raise ConfigError(f"features.{name} {list(value)} must be [low, high] with 1 <= low <= high")
        if not (self.word_ngram_range or self.char_ngram_range or engineered):
            raise ConfigError("no features configured: enable word or char n-grams or engineered features")
        self.fitted_ = False

    @classmethod
    def from_settings(cls, settings: Any, nltk_cache_dir: Path | None = None) -> FeatureBuilder:
        """Build from a :class:`socialscore.config.Settings` (its preprocess and features sections)."""
        f = settings.features
        return cls(
            **common_settings(settings, nltk_cache_dir),
            word_max_features=f.word_max_features,
            char_max_features=f.char_max_features,
        )

    def required_resources(self) -> list[str]:
        return self.preprocessor.required_resources()

    # --- sklearn interface ------------------------------------------------------------------------
    def fit(self, texts: Iterable[str], y: Any = None) -> FeatureBuilder:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        raw = _as_list(texts)
        min_df = self.min_df if len(raw) >= 2 * self.min_df else 1
        self.word_ = self.char_ = None
        if self.word_ngram_range:
            self.word_ = WordNgramTfidf(self.word_ngram_range, self.word_max_features, min_df, self.sublinear_tf)
        if self.char_ngram_range:
            self.char_ = CharNgramTfidf(self.char_ngram_range, self.char_max_features, min_df, self.sublinear_tf)
        if self.engineered:
            self.placeholders_ = known_placeholders()
        parts = _map_parts(_count_part, self, raw, self.n_jobs)
        blocks = []
        for i, vectoriser in enumerate(self._vectorisers()):
            blocks.append(vectoriser.fit_parts([part[0][i] for part in parts], len(raw)))
        if self.engineered:
            dense = np.vstack([part[1] for part in parts])
            peak = np.abs(dense).max(axis=0) if len(dense) else np.zeros(dense.shape[1])
            self.eng_scale_ = (1.0 / np.where(peak > 0, peak, 1.0)).astype(np.float32)
            blocks.append(sp.csr_matrix(dense * self.eng_scale_))
        self.fitted_ = True
        return _stack(blocks)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        if not self.fitted_:
            raise RuntimeError("FeatureBuilder.transform called before fit")
        raw = _as_list(texts)
        parts = _map_parts(FeatureBuilder._transform_serial, self, raw, self.n_jobs)
        return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")

    def _transform_serial(self, raw: list[str]) -> sp.csr_matrix:
        tokens = [self.preprocessor.tokens(t) for t in raw]
        blocks = [vectoriser.transform(tokens) for vectoriser in self._vectorisers()]
        if self.engineered:
            blocks.append(sp.csr_matrix(self._engineered(raw, tokens) * self.eng_scale_))
        return _stack(blocks)

    def _vectorisers(self) -> list[_NgramTfidf]:
        return [v for v in (self.word_, self.char_) if v is not None]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["n_jobs"] = 1  # worker processes are the caller's choice, not the pickle's (e.g. the API)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("n_jobs", 1)  # pickles from before n_jobs existed
        self.__dict__.update(state)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names: list[str] = []
        if self.word_ is not None:
            names += ["word__" + n for n in self.word_.get_feature_names_out()]
        if self.char_ is not None:
            names += ["char__" + n for n in self.char_.get_feature_names_out()]
        if self.engineered:
            names += ["eng__" + n for n in self.engineered_names()]
        return np.asarray(names, dtype=object)

    @property
    def n_features_(self) -> int:
        return len(self.get_feature_names_out())

    # --- engineered features ----------------------------------------------------------------------
    def engineered_names(self) -> list[str]:
        return engineered_names(self.placeholders_)

    def _engineered(self, raw: Sequence[str], tokenised: Sequence[list[str]]) -> np.ndarray:
        return engineered_features(raw, tokenised, self.placeholders_, self.__dict__.get("lexicon", LEXICON))


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


# --- parallel counting ----------------------------------------------------------------------------
PARALLEL_MIN_TEXTS = 10_000  # below this, starting worker processes costs more than it saves


def _count_part(builder: FeatureBuilder, raw: list[str]) -> tuple[list[tuple[sp.csr_matrix, list[str]]], Any]:
    """Raw n-gram counts (each vectoriser with its own local vocabulary) and engineered features."""
    tokens = [builder.preprocessor.tokens(t) for t in raw]
    counted = []
    for vectoriser in builder._vectorisers():
        vocabulary: dict[str, int] = {}
        counted.append((vectoriser._counts(tokens, vocabulary, grow=True), list(vocabulary)))
    return counted, builder._engineered(raw, tokens) if builder.engineered else None


def _map_parts(function: Any, builder: FeatureBuilder, raw: list[str], n_jobs: int) -> list[Any]:
    """``function(builder, part)`` over contiguous parts of ``raw``: in worker processes when it is big.

    Counting n-grams is pure Python, so threads would not help; each process gets an equal share.
    """
    workers = 1 if n_jobs == 1 or len(raw) < PARALLEL_MIN_TEXTS else _effective_jobs(n_jobs)
    if workers < 2:
        return [function(builder, raw)]  # the API's path: no CPU count, no joblib import
    from joblib import Parallel, delayed

    size = -(-len(raw) // workers)
    parts = [raw[i : i + size] for i in range(0, len(raw), size)]
    return Parallel(n_jobs=len(parts), backend="loky")(delayed(function)(builder, part) for part in parts)


def _effective_jobs(n_jobs: int) -> int:
    from joblib import cpu_count  # honours CPU affinity and container CPU quotas

    cpus = cpu_count()
    return cpus if n_jobs < 0 else max(1, min(n_jobs, cpus))


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


def _as_list(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("FeatureBuilder expects a sequence of texts, not one string")
    return ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]


_STACK_ROWS = 20_000


def _stack(blocks: list[sp.spmatrix]) -> sp.csr_matrix:
    """Column blocks side by side, written row-chunk by row-chunk into the result's arrays.

    ``sp.hstack`` makes two full-size temporaries on top of the result; on a million comments
    (~600 entries each) that is ~8 GB more at the feature step's peak.
    """
    blocks = [sp.csr_matrix(b) for b in blocks]
    n_rows = blocks[0].shape[0]
    if n_rows <= _STACK_ROWS:
        return sp.hstack(blocks, format="csr", dtype=np.float32)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for block in blocks:
        indptr[1:] += np.diff(block.indptr)
    np.cumsum(indptr, out=indptr)
    width = sum(b.shape[1] for b in blocks)
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32 if max(width, indptr[-1]) < 2**31 else np.int64)
    for start in range(0, n_rows, _STACK_ROWS):
        stop = min(start + _STACK_ROWS, n_rows)
        part = sp.hstack([b[start:stop] for b in blocks], format="csr", dtype=np.float32)
        data[indptr[start] : indptr[stop]] = part.data
        indices[indptr[start] : indptr[stop]] = part.indices
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))
