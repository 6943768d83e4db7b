"""Identity-term bias mitigations, as pure functions (measured side by side in benchmarks/bench_bias.py).

* :func:`augmentation_rows` — non-toxic identity statements and kind sentences added to the train
  split (Dixon et al. 2018), every label 0; the probe set's *augmentation* templates only, never the
  evaluation ones.
* :func:`column_weights` — a per-feature multiplier: identity-term n-grams and second-person phrase
  n-grams ("you are", "are a") scaled down (0 removes them).
* :func:`without_identity_terms` — the insult lexicon (an engineered feature) without identity terms.
* :func:`repeat_negatives` — a different class balance: non-toxic train rows repeated.
* :func:`mitigate_train_split` — what the features step applies (config ``features.*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from socialscore.modeling.behaviour.probes import (  # noqa: F401  (without_identity_terms: re-exported)
    augmentation_sentences,
    identity_terms,
    without_identity_terms,
)

AUGMENT_ID_PREFIX = "augment-"
MIN_CHAR_GRAM = 4  # shorter character n-grams ("us", "ay") belong to too many other words
SECOND_PERSON_PHRASES = frozenset(
    {"you are", "are a", "are an", "are so", "you re", "re a", "re an", "ur a", "you r", "u r", "r a"}
)


def augmentation_rows(label_columns: Sequence[str], repeat: int = 1, split: str = "train") -> pd.DataFrame:
    """Rows (id, text, split, label columns all 0) of the augmentation sentences, ``repeat`` times each."""
    texts = augmentation_sentences() * max(int(repeat), 0)
    frame = pd.DataFrame({
        "id": [f"{AUGMENT_ID_PREFIX}{i:05d}" for i in range(len(texts))],
        "text": texts,
        "split": split,
    })
    for column in label_columns:
        frame[column] = 0
    return frame


def augment_train_split(comments: pd.DataFrame, repeat: int) -> pd.DataFrame:
    """``comments`` plus the augmentation rows in the train split (nothing added when ``repeat`` is 0)."""
    if repeat <= 0:
        return comments
    labels = [c for c in comments.columns if c.startswith("label_")]
    extra = augmentation_rows(labels, repeat)
    for column in labels:
        extra[column] = extra[column].astype(comments[column].dtype)
    return pd.concat([comments, extra[[c for c in extra.columns if c in comments.columns]]], ignore_index=True)


def repeat_negatives(comments: pd.DataFrame, times: int) -> pd.DataFrame:
    """``comments`` with every all-negative train row present ``times`` times (copies get ids ``<id>~<k>``)."""
    if times <= 1:
        return comments
    labels = [c for c in comments.columns if c.startswith("label_")]
    negative = comments[(comments["split"] == "train") & (comments[labels].max(axis=1) == 0)]
    copies = [negative.assign(id=negative["id"].astype(str) + f"~{k}") for k in range(1, times)]
    return pd.concat([comments, *copies], ignore_index=True)


def mitigate_train_split(comments: pd.DataFrame, features: Any) -> pd.DataFrame:
    """The features step's mitigations (``features.identity_augmentation`` and
    ``features.negative_repeats``), applied to the train split only; the test split is untouched."""
    comments = augment_train_split(comments, getattr(features, "identity_augmentation", 0))
    return repeat_negatives(comments, getattr(features, "negative_repeats", 1))


def _word_grams(feature_names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    names = np.asarray(feature_names, dtype=object)
    index = np.flatnonzero([str(n).startswith("word__") for n in names])
    return index, [str(names[i])[len("word__") :] for i in index]


def identity_columns(feature_names: Sequence[str], terms: Sequence[str] | None = None) -> np.ndarray:
    """Indices of word n-grams holding an identity term (all of a multi-word term's words), and of
    character n-grams of at least ``MIN_CHAR_GRAM`` characters that lie inside an identity word
    (padded as the featurizer pads it: " gay ", " gay", "gay ")."""
    terms = list(terms) if terms is not None else list(identity_terms())
    term_words = [set(t.split()) for t in terms]
    padded = [f" {w} " for t in terms for w in t.split()]
    names = [str(n) for n in feature_names]
    hits = []
    for i, name in enumerate(names):
        kind, _, gram = name.partition("__")
        if kind == "word" and any(w <= set(gram.split()) for w in term_words) or kind == "char" and len(gram) >= MIN_CHAR_GRAM and any(gram in p for p in padded):
            hits.append(i)
    return np.asarray(hits, dtype=np.int64)


def second_person_columns(feature_names: Sequence[str], phrases: frozenset[str] = SECOND_PERSON_PHRASES) -> np.ndarray:
    """Indices of word n-grams that are second-person phrases ("you are", "are a", …)."""
    index, grams = _word_grams(feature_names)
    return np.asarray([i for i, gram in zip(index, grams, strict=True) if gram in phrases], dtype=np.int64)


def column_weights(
    feature_names: Sequence[str], identity_weight: float = 1.0, second_person_weight: float = 1.0
) -> np.ndarray | None:
    """A float32 multiplier per feature column; None when every weight is 1 (nothing to do)."""
    if identity_weight == 1.0 and second_person_weight == 1.0:
        return None
    weights = np.ones(len(feature_names), dtype=np.float32)
    if identity_weight != 1.0:
        weights[identity_columns(feature_names)] = identity_weight
    if second_person_weight != 1.0:
        weights[second_person_columns(feature_names)] = second_person_weight
    return weights


def apply_column_weights(X: sp.spmatrix, weights: np.ndarray | None) -> sp.csr_matrix:
    """``X`` with each column multiplied by its weight (a copy; ``X`` itself is left alone)."""
    X = sp.csr_matrix(X)
    if weights is None:
        return X
    out = X.copy()
    out.data *= weights[out.indices]
    out.eliminate_zeros()
    return out
