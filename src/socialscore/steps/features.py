"""features: comments → fitted FeatureBuilder (train split only) → sparse features of every row."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from socialscore.errors import DataError
from socialscore.modeling.features import FeatureBuilder
from socialscore.modeling.mitigation import mitigate_train_split

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepContext

LABEL_PREFIX = "label_"


def label_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(LABEL_PREFIX)]


def input_hash(frame: pd.DataFrame) -> str:
    """A content hash of what the features depend on (ids, texts, labels, split), order-sensitive."""
    columns = ["id", "text", "split", *label_columns(frame)]
    hashed = pd.util.hash_pandas_object(frame[columns].astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def build_features(
    comments: pd.DataFrame, builder: FeatureBuilder
) -> tuple[sp.csr_matrix, np.ndarray, pd.DataFrame, dict[str, Any]]:
    """Fit ``builder`` on the train rows; return (features, labels, rows, metadata) for all rows.

    Rows are ordered train first, then test (each in id order), so the result is deterministic.
    The Beam engine (socialscore.beam.features) shares :func:`order_rows` and :func:`describe`.
    """
    frame, n_train = order_rows(comments)
    train, test = frame.iloc[:n_train], frame.iloc[n_train:]
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    train_texts = train["text"].fillna("").tolist()
    x_train = builder.fit_transform(train_texts)
    seconds["fit_transform_train"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    x_test = builder.transform(test["text"].fillna("").tolist()) if len(test) else None
    seconds["transform_test"] = round(time.perf_counter() - t0, 3)
    features = x_train if x_test is None else sp.vstack([x_train, x_test], format="csr")
    label_array, rows, metadata = describe(comments, frame, n_train, features, builder)
    metadata["seconds"] = seconds
    return features, label_array, rows, metadata


def order_rows(comments: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """(the rows train first then test, each in id order, with a ``_test`` column; train row count),
    after checking the columns and labels."""
    for column in ("id", "text", "split"):
        if column not in comments.columns:
            raise DataError(f"the comments table has no {column!r} column; rerun the load step")
    labels = label_columns(comments)
    if not labels:
        raise DataError("the comments table has no label_<name> columns: nothing to train on")
    frame = comments.assign(_test=comments["split"].ne("train")).sort_values(["_test", "id"], kind="stable")
    n_train = int((~frame["_test"]).sum())
    if not n_train:
        raise DataError("no rows in the train split; check transform.test_size and the input data")
    y = frame[labels]
    if y.isna().any().any():
        raise DataError(f"missing label values in {', '.join(c for c in labels if y[c].isna().any())}")
    return frame, n_train


def describe(
    comments: pd.DataFrame, frame: pd.DataFrame, n_train: int, features: sp.csr_matrix, builder: Any
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """(labels as int8, the rows table, the metadata) of features built from ``order_rows``' frame."""
    labels = label_columns(comments)
    label_array = frame[labels].to_numpy().astype(np.int8)
    rows = pd.DataFrame({"id": frame["id"].astype(str).to_numpy(), "split": np.where(frame["_test"], "test", "train")})
    names = [c[len(LABEL_PREFIX) :] for c in labels]
    metadata = {
        "feature_names_count": int(features.shape[1]),
        "feature_groups": _groups(builder.get_feature_names_out()),
        "engineered_features": builder.engineered_names() if builder.engineered else [],
        "shape": [int(features.shape[0]), int(features.shape[1])],
        "nnz": int(features.nnz),
        "labels": names,
        "label_columns": labels,
        "split_sizes": {"train": n_train, "test": int(len(frame) - n_train)},
        "positives": {
            name: {"train": int(label_array[:n_train, j].sum()), "test": int(label_array[n_train:, j].sum())}
            for j, name in enumerate(names)
        },
        "preprocessing": dict(builder.preprocessor.settings),
        "nltk_resources": builder.required_resources(),
        "input_hash": input_hash(comments.sort_values("id", kind="stable")),
    }
    return label_array, rows, metadata


LANGUAGE_SAMPLE = 3000  # texts detected for the profile: shares to ~1%, at ~0.3 ms a text


def training_languages(comments: pd.DataFrame) -> dict[str, Any]:
    """The languages and scripts of the train split (a LanguageProfile's state, saved with the model)."""
    from socialscore.modeling.language import LanguageProfile

    train = comments.loc[comments["split"] == "train", "text"].fillna("").astype(str).tolist()
    return LanguageProfile.from_texts(train, sample=LANGUAGE_SAMPLE).to_state()


def _groups(names: np.ndarray) -> dict[str, int]:
    """Columns per feature family (``word``, ``char``, ``eng``): a plain loop, as the hashed
    featuriser has millions of names and pandas' string methods take seconds on them."""
    from collections import Counter

    return dict(Counter(name.split("__", 1)[0] for name in names))


def run(ctx: StepContext) -> None:
    t0 = time.perf_counter()
    comments = mitigate_train_split(ctx.read("comments"), ctx.settings.features)
    read_seconds = time.perf_counter() - t0
    from socialscore.modeling.hashing import featuriser_from_settings

    builder = featuriser_from_settings(ctx.settings, nltk_cache_dir=ctx.layout.nltk_cache_dir)
    builder.preprocessor.prepare()  # a missing NLTK resource fails here, before any work
    if ctx.engine == "beam":
        from socialscore.beam.features import build_features_beam

        features, labels, rows, metadata = build_features_beam(comments, builder, list(ctx.beam_args))
    else:
        features, labels, rows, metadata = build_features(comments, builder)
    metadata["features_settings"] = ctx.settings.features.model_dump(mode="json")
    metadata["languages"] = training_languages(comments)
    metadata["seconds"]["read"] = round(read_seconds, 3)
    t0 = time.perf_counter()
    ctx.write("features", features)
    ctx.write("labels", labels)
    ctx.write("rows", rows)
    ctx.write("vectorizer", builder)
    metadata["seconds"]["write"] = round(time.perf_counter() - t0, 3)
    ctx.write("features_metadata", metadata)
    ctx.info(
        f"{features.shape[0]} rows × {features.shape[1]} features "
        f"(train {metadata['split_sizes']['train']}, test {metadata['split_sizes']['test']})"
    )
    ctx.fact("rows", int(features.shape[0]))
    ctx.fact("features", int(features.shape[1]))
    for phase, seconds in metadata["seconds"].items():
        ctx.fact(f"{phase}_s", seconds)
