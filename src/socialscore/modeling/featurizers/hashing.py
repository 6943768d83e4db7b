"""A stateless-per-text featurizer: hashed word and character n-gram TF-IDF plus engineered features.

:class:`HashingFeaturizer` has :class:`socialscore.modeling.featurizers.features.FeatureBuilder`'s interface and column
semantics (``word__`` block, ``char__`` block, ``eng__`` block; the same preprocessing and engineered
features, sublinear tf, smooth idf, ``min_df``, L2-normalised blocks) but no vocabulary: an n-gram's
column is its MurmurHash3 bucket (:mod:`socialscore.modeling.featurizers.hash_kernel`). Fitting is one counting
pass: document frequencies per bucket give the idf and the ``min_df`` mask, the engineered features'
maxima give their scale. A text's features then depend on that text alone, so transform can run
anywhere (worker processes, Beam workers, out-of-core blocks) and its state is a few arrays.

Buckets are unsigned (sklearn's ``alternate_sign=False``): NB-LR needs non-negative features for its
class count ratios, idf and ``min_df`` are per-bucket document counts, and at 2**20 buckets per kind
collisions are rare enough that the sign trick's bias correction buys nothing measurable.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import ConfigError
from socialscore.modeling.featurizers.base import check_parameters, is_fitted
from socialscore.modeling.featurizers.engineered import (
    LEXICON,
    engineered_batch,
    engineered_features,
    engineered_names,
    known_placeholders,
)
from socialscore.modeling.featurizers.compiled import scaled_engineered, tf_table, transform_compiled
from socialscore.modeling.featurizers.features import _as_list, _map_parts, _stack, common_settings, transform_in_parts
from socialscore.modeling.featurizers.hash_kernel import (
    buckets_of,
    char_grams,
    compiled_kernel,
    count_encoded,
    count_hashed,
    word_grams,
)
from socialscore.text.preprocess import TextPreprocessor

STATE_KIND = "socialscore.hashing/1"
NAME_SAMPLE_TEXTS = 2000  # training texts whose n-grams name their buckets
_BATCH = 4096  # texts per kernel call: bounds its temporary arrays


class HashingFeaturizer:
    """Raw texts → CSR float32 features through hashed n-grams (see the module docstring)."""

    def __init__(
        self,
        preprocess: Any = None,
        word_ngram_range: tuple[int, int] | None = (1, 2),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        hash_bits: int = 20,
        min_df: int = 2,
        sublinear_tf: bool = True,
        engineered: bool = True,
        nltk_cache_dir: Path | None = None,
        n_jobs: int = 1,
        compiled: bool | None = None,
        lexicon: frozenset[str] | None = None,
    ) -> None:
        self.preprocessor = (
            preprocess if isinstance(preprocess, TextPreprocessor) else TextPreprocessor(preprocess, nltk_cache_dir)
        )
        self.word_ngram_range = tuple(word_ngram_range) if word_ngram_range else None
        self.char_ngram_range = tuple(char_ngram_range) if char_ngram_range else None
        self.hash_bits = hash_bits
        self.min_df, self.sublinear_tf, self.engineered = min_df, sublinear_tf, engineered
        self.n_jobs = n_jobs
        self.compiled = compiled  # None: numba when available; False: the Python path (same output)
        self.lexicon = frozenset(lexicon) if lexicon is not None else LEXICON  # insult words counted

    @property
    def n_buckets(self) -> int:
        return 1 << self.hash_bits

    @classmethod
    def from_settings(cls, settings: Any, nltk_cache_dir: Path | None = None) -> HashingFeaturizer:
        featurizer = cls(**common_settings(settings, nltk_cache_dir), hash_bits=settings.features.hash_bits)
        featurizer.check_parameters()
        return featurizer

    def check_parameters(self) -> None:
        check_parameters(self)
        if not 4 <= self.hash_bits <= 28:
            raise ConfigError(f"features.hash_bits {self.hash_bits} must be between 4 and 28")

    def required_resources(self) -> list[str]:
        return self.preprocessor.required_resources()

    # --- counting ---------------------------------------------------------------------------------
    def count(self, raw: list[str]) -> tuple[list[sp.csr_matrix], np.ndarray | None]:
        """Raw hashed counts (one CSR per n-gram kind) and unscaled engineered features of texts."""
        blocks: list[list[sp.csr_matrix]] = [[] for _ in self._kinds()]
        eng: list[np.ndarray] = []
        lexicon = self.__dict__.get("lexicon", LEXICON)
        for start in range(0, max(len(raw), 1), _BATCH):
            part = raw[start : start + _BATCH]
            kernel = self._compiled_kernel()
            batch = self.preprocessor.token_batch(part) if kernel else None
            if batch is None:
                tokens = [self.preprocessor.tokens(t) for t in part]
                counted = count_hashed(tokens, self.word_ngram_range, self.char_ngram_range, self.n_buckets, self.compiled)
                if self.engineered:
                    eng.append(engineered_features(part, tokens, self.placeholders_, lexicon))
            else:
                counted = count_encoded(
                    kernel, batch.utf8, batch.tok_chars, batch.doc_tokens,
                    self.word_ngram_range, self.char_ngram_range, self.n_buckets,
                )  # fmt: skip
                if self.engineered:
                    eng.append(engineered_batch(part, batch, self.placeholders_, lexicon))
            for i, arrays in enumerate(a for a in (counted.word, counted.char) if a is not None):
                indptr, indices, counts = arrays
                blocks[i].append(sp.csr_matrix((counts, indices, indptr), shape=(len(part), self.n_buckets)))
        stacked = [b[0] if len(b) == 1 else sp.vstack(b, format="csr") for b in blocks]
        return stacked, (eng[0] if len(eng) == 1 else np.vstack(eng)) if self.engineered else None

    def _compiled_kernel(self) -> Any:
        """The numba hash kernel, unless the Python path is asked for (None; compiled=True without
        numba: count_hashed raises)."""
        return compiled_kernel() if self.compiled is not False else None

    def _kinds(self) -> list[str]:
        return [k for k, r in (("word", self.word_ngram_range), ("char", self.char_ngram_range)) if r]

    # --- sklearn interface ------------------------------------------------------------------------
    def fit(self, texts: Iterable[str], y: Any = None) -> HashingFeaturizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix:
        self.check_parameters()
        raw = _as_list(texts)
        self.placeholders_ = known_placeholders() if self.engineered else ()
        parts = _map_parts(_count_part, self, raw, self.n_jobs)
        counts = [_vstack([p[0][i] for p in parts]) for i in range(len(self._kinds()))]
        eng = np.vstack([p[1] for p in parts]) if self.engineered else None
        stats = FitStatistics(len(self._kinds()), self.n_buckets, eng.shape[1] if eng is not None else 0)
        stats.add(counts, eng)
        self.set_statistics(stats)
        self._sample_names(raw[:NAME_SAMPLE_TEXTS])
        return self._weigh(counts, eng)

    def set_statistics(self, stats: FitStatistics) -> None:
        """Fix idf, the ``min_df`` mask and the engineered scale from a counting pass's totals."""
        min_df = self.min_df if stats.n_docs >= 2 * self.min_df else 1
        self.idf_ = [stats.idf(i, min_df) for i in range(len(self._kinds()))]
        if self.engineered:
            peak = stats.eng_peak
            self.eng_scale_ = (1.0 / np.where(peak > 0, peak, 1.0)).astype(np.float32)
        self.n_train_docs_ = stats.n_docs
        self.fitted_ = True

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        return transform_in_parts(self, HashingFeaturizer._transform_serial, texts)

    def _transform_serial(self, raw: list[str]) -> sp.csr_matrix:
        parts = [self._transform_compiled(raw[i : i + _BATCH]) for i in range(0, max(len(raw), 1), _BATCH)]
        if all(part is not None for part in parts):
            return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")  # type: ignore[arg-type]
        counts, eng = self.count(raw)
        return self._weigh(counts, eng)

    def _transform_compiled(self, raw: list[str]) -> sp.csr_matrix | None:
        """:meth:`_weigh` of :meth:`count` (the same bits) in compiled passes and ONE sparse build;
        None where the compiled path does not apply (the caller takes the reference path)."""
        ranges = (self.word_ngram_range, self.char_ngram_range)
        widths = (self.n_buckets * bool(ranges[0]), self.n_buckets * bool(ranges[1]))
        return transform_compiled(
            self._compiled_kernel(), self, raw, ranges, widths, self.idf_, self.sublinear_tf,
            scaled_engineered(self),
        )

    def _weigh(self, counts: list[sp.csr_matrix], eng: np.ndarray | None) -> sp.csr_matrix:
        blocks = [weigh_block(c, idf, self.sublinear_tf, self.compiled) for c, idf in zip(counts, self.idf_, strict=True)]
        if self.engineered:
            blocks.append(sp.csr_matrix(eng * self.eng_scale_))
        return _stack(blocks)

    # --- names ------------------------------------------------------------------------------------
    def _sample_names(self, raw: list[str]) -> None:
        """Bucket → the first n-gram seen in it (among the first training texts); kept buckets only."""
        token_lists = [self.preprocessor.tokens(text) for text in raw]
        samples: dict[str, dict[int, str]] = {}
        for kind, idf in zip(self._kinds(), self.idf_, strict=True):
            if kind == "word":
                grams = dict.fromkeys(g for tokens in token_lists for g in word_grams(tokens, self.word_ngram_range))
            else:
                words = dict.fromkeys(w for tokens in token_lists for w in tokens)
                grams = dict.fromkeys(g for w in words for g in char_grams(w, self.char_ngram_range))
            sample: dict[int, str] = {}
            for gram, bucket in zip(grams, buckets_of(list(grams), self.n_buckets), strict=True):
                if idf[bucket] > 0:
                    sample.setdefault(bucket, gram)
            samples[kind] = sample
        self.name_samples_ = samples

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``word__<n-gram>`` / ``char__<n-gram>`` for buckets named by the sample, else ``word__{#bucket}``."""
        names: list[str] = []
        for kind in self._kinds():
            sample = self.name_samples_.get(kind, {})
            names += [f"{kind}__{sample[b]}" if b in sample else f"{kind}__{{#{b}}}" for b in range(self.n_buckets)]
        if self.engineered:
            names += ["eng__" + n for n in self.engineered_names()]
        return np.asarray(names, dtype=object)

    def engineered_names(self) -> list[str]:
        return engineered_names(self.placeholders_)

    @property
    def n_features_(self) -> int:
        eng = len(self.engineered_names()) if self.engineered else 0
        return len(self._kinds()) * self.n_buckets + eng

    # --- state (JSON + arrays, no pickle) ---------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if not is_fitted(self):
            raise RuntimeError("HashingFeaturizer.to_state called before fit")
        meta = {
            "kind": STATE_KIND,
            "preprocess": dict(self.preprocessor.settings),
            "word_ngram_range": list(self.word_ngram_range) if self.word_ngram_range else None,
            "char_ngram_range": list(self.char_ngram_range) if self.char_ngram_range else None,
            "hash_bits": self.hash_bits,
            "min_df": self.min_df,
            "sublinear_tf": self.sublinear_tf,
            "engineered": self.engineered,
            "placeholders": list(self.placeholders_),
            "lexicon": sorted(self.__dict__.get("lexicon", LEXICON)),
            "n_train_docs": int(self.n_train_docs_),
            "name_samples": {k: [[int(b), g] for b, g in sorted(v.items())] for k, v in self.name_samples_.items()},
        }
        arrays = {f"idf_{kind}": idf for kind, idf in zip(self._kinds(), self.idf_, strict=True)}
        if self.engineered:
            arrays["eng_scale"] = self.eng_scale_
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> HashingFeaturizer:
        if meta.get("kind") != STATE_KIND:
            raise ValueError(f"not a hashing featurizer state: kind {meta.get('kind')!r}")
        out = cls(
            preprocess=meta["preprocess"],
            word_ngram_range=meta["word_ngram_range"],
            char_ngram_range=meta["char_ngram_range"],
            hash_bits=meta["hash_bits"],
            min_df=meta["min_df"],
            sublinear_tf=meta["sublinear_tf"],
            engineered=meta["engineered"],
            lexicon=frozenset(meta["lexicon"]) if meta.get("lexicon") else None,
        )
        out.placeholders_ = tuple(meta["placeholders"])
        out.idf_ = [np.asarray(arrays[f"idf_{kind}"], dtype=np.float32) for kind in out._kinds()]
        if out.engineered:
            out.eng_scale_ = np.asarray(arrays["eng_scale"], dtype=np.float32)
        out.n_train_docs_ = meta["n_train_docs"]
        out.name_samples_ = {k: {int(b): g for b, g in v} for k, v in meta["name_samples"].items()}
        out.fitted_ = True
        return out.warm_up()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["n_jobs"] = 1  # worker processes are the caller's choice, not the pickle's (e.g. the API)
        state.pop("_token_cache", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.warm_up()

    def warm_up(self) -> HashingFeaturizer:
        """Load (or compile) the numba kernels now, so a server's first request does not wait for them."""
        count_hashed([["warm"]], self.word_ngram_range, self.char_ngram_range, self.n_buckets, self.compiled)
        if is_fitted(self) and self._compiled_kernel():  # a request's path, with its array types
            self.transform(["warm up", "[URL] 1d10t!!"])
        return self


class FitStatistics:
    """Totals of a counting pass, addable block by block: document frequencies, rows, engineered maxima."""

    def __init__(self, n_kinds: int, n_buckets: int, n_engineered: int) -> None:
        self.df = [np.zeros(n_buckets, dtype=np.int64) for _ in range(n_kinds)]
        self.n_docs = 0
        self.eng_peak = np.zeros(n_engineered, dtype=np.float32)

    def add(self, counts: list[sp.csr_matrix], eng: np.ndarray | None) -> None:
        for df, block in zip(self.df, counts, strict=True):
            df += np.bincount(block.indices, minlength=len(df))  # indices are unique within a row
        self.n_docs += counts[0].shape[0] if counts else (len(eng) if eng is not None else 0)
        if eng is not None and len(eng):
            np.maximum(self.eng_peak, np.abs(eng).max(axis=0), out=self.eng_peak)

    def idf(self, kind: int, min_df: int) -> np.ndarray:
        """Smooth idf per bucket (sklearn's), 0 for buckets in fewer than ``min_df`` documents."""
        df = self.df[kind]
        idf = (np.log((1 + self.n_docs) / (1 + df)) + 1).astype(np.float32)
        idf[df < min_df] = 0.0
        return idf


def weigh_block(counts: sp.csr_matrix, idf: np.ndarray, sublinear_tf: bool, compiled: bool | None = None) -> sp.csr_matrix:
    """Drop masked buckets (idf 0), tf (sublinear) × idf, rows scaled to unit L2 norm.

    ``compiled`` (None: when numba is available) runs one numba pass with the same arithmetic; tf
    values come from a table numpy computes, so both paths give the same bits.
    """
    if compiled is not False and counts.nnz and compiled_kernel() is not None:
        from socialscore.modeling.featurizers.hash_numba import weigh_rows

        indptr, indices, data = weigh_rows(counts.indptr, counts.indices, counts.data, idf, tf_table(counts.data, sublinear_tf))
        out = sp.csr_matrix((data, indices, indptr), shape=counts.shape)
        out.has_sorted_indices = True
        return out
    weights = idf[counts.indices]  # one gather (the idf array is megabytes: random access is the cost)
    indices, indptr, data = counts.indices, counts.indptr, counts.data
    keep = weights > 0
    if not keep.all():
        indptr = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])[indptr]
        indices, data, weights = indices[keep], data[keep], weights[keep]
    data = np.log(data) + np.float32(1) if sublinear_tf else data.astype(np.float32, copy=True)
    data *= weights
    lengths = np.diff(indptr)
    norms = np.ones(len(lengths), dtype=np.float64)
    filled = np.flatnonzero(lengths)
    if len(filled):
        norms[filled] = np.sqrt(np.add.reduceat(np.square(data, dtype=np.float64), indptr[filled]))
    data /= np.repeat(norms.astype(np.float32), lengths)
    out = sp.csr_matrix((data, indices, indptr), shape=counts.shape)
    out.has_sorted_indices = True
    return out


def _count_part(featurizer: HashingFeaturizer, raw: list[str]) -> tuple[list[sp.csr_matrix], np.ndarray | None]:
    return featurizer.count(raw)


def _vstack(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
