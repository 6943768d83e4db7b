"""Raw texts → the featurizers' weighted CSR in compiled passes and one sparse build.

Shared by the hashing featurizer (hash buckets) and the vocabulary one (``FeatureBuilder``: vocabulary
columns through :func:`~socialscore.modeling.featurizers.hash_kernel.vocabulary_table`). Both give
the bits of their Python paths (tests/modeling/test_hashing_compiled.py, test_vocabulary_compiled.py):
the same tokens, n-gram counts, tf × idf in float32, row norms summed as numpy's ``reduceat`` does,
and blocks joined as ``sp.hstack`` joins them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.modeling.featurizers.engineered import LEXICON, engineered_batch
from socialscore.modeling.featurizers.hash_kernel import TokenCache, VocabTable, count_encoded

_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))


def transform_compiled(
    kernel: Any,
    featurizer: Any,
    raw: list[str],
    ranges: tuple[tuple[int, int] | None, tuple[int, int] | None],
    widths: tuple[int, int],
    idfs: list[np.ndarray],
    sublinear_tf: bool,
    engineered: Callable[[list[str], Any], np.ndarray] | None,
    vocabularies: tuple[VocabTable, VocabTable] | None = None,
) -> sp.csr_matrix | None:
    """Word block (width ``widths[0]``), char block (``widths[1]``), then the scaled engineered columns
    (``engineered(raw, token_batch)``); ``ranges``: the (word, char) n-gram ranges, None for a kind
    that is off (its width 0, no idf). None where the compiled path does not apply (no kernel, an
    empty batch, a text the compiled tokenizer does not take): the caller takes its Python path."""
    batch = featurizer.preprocessor.token_batch(raw) if kernel is not None and raw else None
    if batch is None:
        return None
    from socialscore.modeling.featurizers.hash_numba import join_rows, weigh_rows

    word_range, char_range = ranges
    counted = count_encoded(
        kernel, batch.utf8, batch.tok_chars, batch.doc_tokens, word_range, char_range, max(*widths, 1), vocabularies,
        token_cache(featurizer),
    )
    on = [arrays for arrays in (counted.word, counted.char) if arrays is not None]
    weighted = []
    for (indptr, indices, counts), idf in zip(on, idfs, strict=True):
        weighted.append(
            weigh_rows(indptr, indices, counts, idf, tf_table(counts, sublinear_tf))
            if len(counts) else (np.zeros(len(raw) + 1, np.int64), _EMPTY[1], _EMPTY[2])
        )  # fmt: skip
    word = weighted.pop(0) if counted.word is not None else _EMPTY
    char = weighted.pop(0) if counted.char is not None else _EMPTY
    eng = engineered(raw, batch) if engineered is not None else np.zeros((len(raw), 0), np.float32)
    indptr, indices, data = join_rows(*word, *char, widths[0], eng, widths[0] + widths[1])
    return sp.csr_matrix((data, indices, indptr), shape=(len(raw), widths[0] + widths[1] + eng.shape[1]))


def token_cache(featurizer: Any) -> TokenCache:
    """The featurizer's token cache (made on first use; featurizers leave it out of their pickles)."""
    cache = featurizer.__dict__.get("_token_cache")
    if cache is None:
        cache = featurizer._token_cache = TokenCache()
    return cache


def scaled_engineered(featurizer: Any) -> Callable[[list[str], Any], np.ndarray] | None:
    """The featurizer's scaled engineered columns from a token batch (None: it has none)."""
    if not featurizer.engineered:
        return None
    lexicon = featurizer.__dict__.get("lexicon", LEXICON)  # pickles from before the option: the full list
    return lambda raw, batch: engineered_batch(raw, batch, featurizer.placeholders_, lexicon) * featurizer.eng_scale_


def tf_table(counts: np.ndarray, sublinear_tf: bool) -> np.ndarray:
    """tf of each count 0..max(counts) (float32, computed by numpy: the compiled passes look it up)."""
    top = int(counts.max())
    if top < _TF_CACHED:
        return _cached_tf_table(sublinear_tf)  # numpy's log is elementwise: a longer table, the same values
    return _compute_tf_table(top, sublinear_tf)


_TF_CACHED = 1 << 12


@functools.cache
def _cached_tf_table(sublinear_tf: bool) -> np.ndarray:
    return _compute_tf_table(_TF_CACHED, sublinear_tf)


def _compute_tf_table(top: int, sublinear_tf: bool) -> np.ndarray:
    values = np.arange(1, top + 1, dtype=np.float32)
    tf = np.concatenate([[np.float32(0)], np.log(values) + np.float32(1) if sublinear_tf else values])
    return tf.astype(np.float32)
