"""The hashing featurizer over row blocks: fit and transform without the whole matrix in memory.

:func:`fit_counts` is the counting pass over the train texts, given chunk by chunk (document frequencies,
engineered maxima); each chunk's raw counts are kept in a scratch file so the texts are tokenised
once. :func:`weighted_blocks` then yields the TF-IDF rows of the train chunks (from those counts)
and of the test chunks, one block at a time. The rows equal ``fit_transform(train)`` stacked on
``transform(test)`` (a text's weights depend on that text and the fitted idf alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from socialscore.modeling.featurizers.engineered import known_placeholders
from socialscore.modeling.featurizers.features import _map_parts
from socialscore.modeling.featurizers.hashing import (
    NAME_SAMPLE_TEXTS,
    FitStatistics,
    HashingFeaturizer,
    _count_part,
    _vstack,
)


def _count(featurizer: HashingFeaturizer, chunk: list[str]) -> tuple[list[sp.csr_matrix], np.ndarray | None]:
    parts = _map_parts(_count_part, featurizer, chunk, featurizer.n_jobs)
    counts = [_vstack([p[0][i] for p in parts]) for i in range(len(featurizer._kinds()))]
    eng = np.vstack([p[1] for p in parts]) if featurizer.engineered else None
    return counts, eng


def _save_counts(path: Path, counts: list[sp.csr_matrix], eng: np.ndarray | None, n_buckets: int) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, block in enumerate(counts):
        arrays.update({f"data{i}": block.data, f"indices{i}": block.indices, f"indptr{i}": block.indptr})
    if eng is not None:
        arrays["eng"] = eng
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _load_counts(path: Path, n_kinds: int, n_buckets: int) -> tuple[list[sp.csr_matrix], np.ndarray | None]:
    with np.load(path, allow_pickle=False) as stored:
        counts = []
        for i in range(n_kinds):
            indptr = stored[f"indptr{i}"]
            counts.append(
                sp.csr_matrix((stored[f"data{i}"], stored[f"indices{i}"], indptr), shape=(len(indptr) - 1, n_buckets))
            )
        eng = stored["eng"] if "eng" in stored.files else None
    return counts, eng


def fit_counts(featurizer: HashingFeaturizer, train_chunks: Iterable[list[str]], scratch: Path) -> list[Path]:
    """Fit ``featurizer`` on the train texts, given chunk by chunk; return the chunks' raw-count
    files (in order)."""
    featurizer.placeholders_ = known_placeholders() if featurizer.engineered else ()
    n_kinds = len(featurizer._kinds())
    stats: FitStatistics | None = None
    paths: list[Path] = []
    named: list[str] = []  # the first texts, whose n-grams name the buckets
    for number, chunk in enumerate(train_chunks):
        named.extend(chunk[: NAME_SAMPLE_TEXTS - len(named)])
        counts, eng = _count(featurizer, chunk)
        if stats is None:
            stats = FitStatistics(n_kinds, featurizer.n_buckets, eng.shape[1] if eng is not None else 0)
        stats.add(counts, eng)
        paths.append(scratch / f"counts_{number:05d}.npz")
        _save_counts(paths[-1], counts, eng, featurizer.n_buckets)
    if stats is None:
        raise ValueError("no training texts to fit on")
    featurizer.set_statistics(stats)
    featurizer._sample_names(named)
    return paths


def weighted_blocks(
    featurizer: HashingFeaturizer, count_paths: list[Path], test_chunks: Iterable[list[str]]
) -> Iterator[sp.csr_matrix]:
    """The fitted featurizer's rows: the train chunks (from their counts), then the test chunks."""
    n_kinds = len(featurizer._kinds())
    for path in count_paths:
        counts, eng = _load_counts(path, n_kinds, featurizer.n_buckets)
        yield featurizer._weigh(counts, eng)
        path.unlink(missing_ok=True)
    for chunk in test_chunks:
        yield featurizer.transform(chunk)


def is_streamable(featurizer: Any) -> bool:
    """Whether ``featurizer`` can be fitted chunk by chunk (the hashing one; a vocabulary cannot)."""
    return isinstance(featurizer, HashingFeaturizer)
