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
        if not (self.word_ngram_range or self.char_ngram_range or engineered):
            raise ValueError("no features configured: enable word or char n-grams or engineered features")
        self.fitted_ = False

    @classmethod
    def from_settings(cls, settings: Any, nltk_cache_dir: Path | None = None) -> FeatureBuilder:
        """Build from a :class:`socialscore.config.Settings` (its preprocess and features sections)."""
        f = settings.features
        return cls(
            preprocess=settings.preprocess,
            word_ngram_range=f.word_ngram_range,
            word_max_features=f.word_max_features,
            char_ngram_range=f.char_ngram_range,
            char_max_features=f.char_max_features,
            min_df=f.min_df,
            sublinear_tf=f.sublinear_tf,
            engineered=f.engineered,
            nltk_cache_dir=nltk_cache_dir,
        )

    def required_resources(self) -> list[str]:
        return self.preprocessor.required_resources()

    # --- sklearn interface ------------------------------------------------------------------------
    def fit(self, texts: Iterable[str], y: Any = None) -> FeatureBuilder:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        raw = _as_list(texts)
        cleaned = [self.preprocessor(t) for t in raw]
        min_df = self.min_df if len(raw) >= 2 * self.min_df else 1
        blocks = []
        self.word_ = self.char_ = None
        if self.word_ngram_range:
            self.word_ = TfidfVectorizer(
                token_pattern=r"\S+",
                lowercase=False,
                ngram_range=self.word_ngram_range,
                max_features=self.word_max_features,
                min_df=min_df,
                sublinear_tf=self.sublinear_tf,
                dtype=np.float32,
            )
            blocks.append(_fit_or_empty(self.word_, cleaned))
        if self.char_ngram_range:
            self.char_ = WordCharTfidf(self.char_ngram_range, self.char_max_features, min_df, self.sublinear_tf)
            blocks.append(self.char_.fit_transform(cleaned))
        if self.engineered:
            self.placeholders_ = known_placeholders()
            dense = self._engineered(raw, cleaned)
            peak = np.abs(dense).max(axis=0) if len(dense) else np.ones(dense.shape[1])
            self.eng_scale_ = np.where(peak > 0, 1.0 / np.where(peak > 0, peak, 1.0), 1.0).astype(np.float32)
            blocks.append(sp.csr_matrix(dense * self.eng_scale_))
        self.fitted_ = True
        return _stack(blocks)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        if not self.fitted_:
            raise RuntimeError("FeatureBuilder.transform called before fit")
        raw = _as_list(texts)
        cleaned = [self.preprocessor(t) for t in raw]
        blocks = []
        if self.word_ is not None:
            blocks.append(_transform_or_empty(self.word_, cleaned))
        if self.char_ is not None:
            blocks.append(self.char_.transform(cleaned))
        if self.engineered:
            blocks.append(sp.csr_matrix(self._engineered(raw, cleaned) * self.eng_scale_))
        return _stack(blocks)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names: list[str] = []
        if self.word_ is not None:
            names += ["word__" + n for n in _names(self.word_)]
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
        base = [
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
        ]
        return base + [f"placeholder_{_placeholder_name(p)}" for p in self.placeholders_]

    def _engineered(self, raw: Sequence[str], cleaned: Sequence[str]) -> np.ndarray:
        index = {p: i for i, p in enumerate(self.placeholders_)}
        n_base = 10
        out = np.zeros((len(raw), n_base + len(index)), dtype=np.float32)
        lexicon = LEXICON
        for row, (text, clean) in enumerate(zip(raw, cleaned, strict=True)):
            text = text.strip()  # scores must not depend on trailing whitespace
            if not text:
                continue
            tokens = clean.split()
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


class WordCharTfidf:
    """Character n-grams within words (sklearn's ``char_wb``) as TF-IDF, computed per distinct word.

    A text's n-gram counts are the sum of its words' n-gram counts, and words repeat (Zipf), so
    caching each word's n-gram column indices makes this ~10x faster than TfidfVectorizer's analyzer
    while giving the same kind of features. Vocabulary: n-grams in at least ``min_df`` training
    texts, the ``max_features`` most frequent kept; idf smoothed; sublinear tf; rows L2-normalised.
    """

    _CACHE_LIMIT = 500_000

    def __init__(self, ngram_range: tuple[int, int], max_features: int | None, min_df: int, sublinear_tf: bool):
        self.ngram_range, self.max_features = tuple(ngram_range), max_features
        self.min_df, self.sublinear_tf = min_df, sublinear_tf
        self._cache: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}  # rebuilt on demand; keeps the pickle small
        return state

    def _grams(self, word: str) -> list[str]:
        padded = f" {word} "
        low, high = self.ngram_range
        out: list[str] = []
        for n in range(low, high + 1):
            if n >= len(padded):
                out.append(padded)
                break
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return out

    def _counts(self, docs: Sequence[str], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
        """Raw n-gram counts; ``grow`` adds unseen n-grams to ``vocabulary`` (fitting only)."""
        cache = self._cache if not grow else {}
        if len(cache) > self._CACHE_LIMIT:
            cache.clear()
        empty = np.zeros(0, dtype=np.int32)
        pieces: list[np.ndarray] = []
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        total = 0
        for row, doc in enumerate(docs):
            for word in doc.split():
                idx = cache.get(word)
                if idx is None:
                    grams = self._grams(word)
                    if grow:
                        idx = np.fromiter((vocabulary.setdefault(g, len(vocabulary)) for g in grams), np.int32)
                    else:
                        found = [vocabulary.get(g, -1) for g in grams]
                        idx = np.asarray([i for i in found if i >= 0], dtype=np.int32) if found else empty
                    cache[word] = idx
                pieces.append(idx)
                total += len(idx)
            indptr[row + 1] = total
        indices = np.concatenate(pieces) if pieces else empty
        counts = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(docs), len(vocabulary))
        )
        counts.sum_duplicates()
        return counts

    def fit_transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        candidates: dict[str, int] = {}
        counts = self._counts(docs, candidates, grow=True)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(keep) > self.max_features:
            totals = np.asarray(counts.sum(axis=0)).ravel()[keep]
            keep = keep[np.argsort(-totals, kind="stable")[: self.max_features]]
        names = np.asarray(list(candidates), dtype=object)[keep]
        order = np.argsort(names, kind="stable")  # columns in n-gram order, as sklearn does
        keep, names = keep[order], names[order]
        self.vocabulary_ = {str(g): i for i, g in enumerate(names)}
        self.idf_ = (np.log((1 + len(docs)) / (1 + df[keep])) + 1).astype(np.float32)
        self._cache = {}
        return self._weight(counts[:, keep])

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        return self._weight(self._counts(docs, self.vocabulary_, grow=False))

    def get_feature_names_out(self) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for gram, i in self.vocabulary_.items():
            names[i] = gram
        return names

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        from sklearn.preprocessing import normalize

        counts = sp.csr_matrix(counts, dtype=np.float32)
        if self.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1
        counts = counts @ sp.diags(self.idf_) if counts.shape[1] else counts
        return normalize(sp.csr_matrix(counts, dtype=np.float32), norm="l2", copy=False)


def _as_list(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("FeatureBuilder expects a sequence of texts, not one string")
    return ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]


def _fit_or_empty(vectorizer: Any, texts: list[str]) -> sp.csr_matrix:
    """fit_transform; a corpus with no usable n-gram gives an empty vocabulary, not a crash."""
    try:
        return vectorizer.fit_transform(texts)
    except ValueError:  # "empty vocabulary"
        vectorizer.vocabulary_ = {}
        vectorizer.fixed_vocabulary_ = True
        vectorizer.idf_ = np.zeros(0)
        return sp.csr_matrix((len(texts), 0), dtype=np.float32)


def _transform_or_empty(vectorizer: Any, texts: list[str]) -> sp.csr_matrix:
    if not vectorizer.vocabulary_:
        return sp.csr_matrix((len(texts), 0), dtype=np.float32)
    return vectorizer.transform(texts)


def _names(vectorizer: Any) -> list[str]:
    if not vectorizer.vocabulary_:
        return []
    return list(vectorizer.get_feature_names_out())


def _stack(blocks: list[sp.spmatrix]) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float32)
