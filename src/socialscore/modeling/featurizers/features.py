"""Text → sparse features: preprocessing, word and character TF-IDF, named engineered features.

:class:`FeatureBuilder` is fitted on the train split and pickled with the model bundle, so serving
turns a raw comment into exactly the features the model was trained on. The TF-IDF transformers are in
modeling/featurizers/tfidf.py, the engineered features in modeling/featurizers/engineered.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.modeling.featurizers.base import check_parameters, is_fitted
from socialscore.modeling.featurizers.engineered import (
    LEXICON,
    engineered_features,
    engineered_names,
    known_placeholders,
    lexicon_for,
)
from socialscore.modeling.featurizers.tfidf import CharNgramTfidf, WordNgramTfidf, _NgramTfidf
from socialscore.text.preprocess import TextPreprocessor


def common_settings(settings: Any, nltk_cache_dir: Path | None = None) -> dict[str, Any]:
    """The constructor arguments every featurizer (vocabulary or hashing) takes from the settings."""
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

    @classmethod
    def from_settings(cls, settings: Any, nltk_cache_dir: Path | None = None) -> FeatureBuilder:
        """Build from a :class:`socialscore.config.Settings` (its preprocess and features sections)."""
        f = settings.features
        builder = cls(
            **common_settings(settings, nltk_cache_dir),
            word_max_features=f.word_max_features,
            char_max_features=f.char_max_features,
        )
        builder.check_parameters()
        return builder

    def check_parameters(self) -> None:
        check_parameters(self)

    def required_resources(self) -> list[str]:
        return self.preprocessor.required_resources()

    # --- sklearn interface ------------------------------------------------------------------------
    def fit(self, texts: Iterable[str], y: Any = None) -> FeatureBuilder:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        self.check_parameters()
        raw = _as_list(texts)
        min_df = self.min_df if len(raw) >= 2 * self.min_df else 1
        self.word_ = self.char_ = None
        for cached in ("_tables", "_token_cache"):  # of the previous vocabulary
            self.__dict__.pop(cached, None)
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
        return transform_in_parts(self, FeatureBuilder._transform_serial, texts)

    def _transform_serial(self, raw: list[str]) -> sp.csr_matrix:
        parts = [self._transform_compiled(raw[i : i + _BATCH]) for i in range(0, max(len(raw), 1), _BATCH)]
        if all(part is not None for part in parts):
            return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")  # type: ignore[arg-type]
        tokens = [self.preprocessor.tokens(t) for t in raw]
        blocks = [vectoriser.transform(tokens) for vectoriser in self._vectorisers()]
        if self.engineered:
            blocks.append(sp.csr_matrix(self._engineered(raw, tokens) * self.eng_scale_))
        return _stack(blocks)

    def _transform_compiled(self, raw: list[str]) -> sp.csr_matrix | None:
        """The same bits in compiled passes and one sparse build (None: not here, see ``transform_compiled``)."""
        from socialscore.modeling.featurizers.compiled import scaled_engineered, transform_compiled
        from socialscore.modeling.featurizers.hash_kernel import compiled_kernel

        kernel = compiled_kernel()
        if kernel is None or not raw:
            return None
        tables = self.__dict__.get("_tables")
        if tables is None:  # built on first use (~0.2 s for 400k n-grams), never pickled
            tables = self._tables = self._vocabulary_tables()
        vectorisers = (self.word_, self.char_)
        return transform_compiled(
            kernel, self, raw, (self.word_ngram_range, self.char_ngram_range),
            tuple(len(v.vocabulary_) if v is not None else 0 for v in vectorisers),  # type: ignore[arg-type]
            [v.idf_ for v in vectorisers if v is not None], self.sublinear_tf, scaled_engineered(self), tables,
        )  # fmt: skip

    def _vocabulary_tables(self) -> tuple[Any, Any]:
        from socialscore.modeling.featurizers.hash_kernel import vocabulary_table

        return tuple(  # type: ignore[return-value]
            vocabulary_table(v.get_feature_names_out() if v is not None else []) for v in (self.word_, self.char_)
        )

    def _vectorisers(self) -> list[_NgramTfidf]:
        return [v for v in (self.word_, self.char_) if v is not None]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["n_jobs"] = 1  # worker processes are the caller's choice, not the pickle's (e.g. the API)
        for cached in ("_tables", "_token_cache"):  # rebuilt on first use
            state.pop(cached, None)
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


# --- parallel counting ----------------------------------------------------------------------------
PARALLEL_MIN_TEXTS = 10_000
_BATCH = 4096  # texts per compiled call: bounds its temporary arrays  # below this, starting worker processes costs more than it saves


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


def transform_in_parts(featurizer: Any, serial: Any, texts: Iterable[str]) -> sp.csr_matrix:
    """``serial(featurizer, part)`` over the texts in ``featurizer.n_jobs`` worker processes, stacked in order."""
    if not is_fitted(featurizer):
        raise RuntimeError(f"{type(featurizer).__name__}.transform called before fit")
    parts = _map_parts(serial, featurizer, _as_list(texts), featurizer.n_jobs)
    return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")


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
