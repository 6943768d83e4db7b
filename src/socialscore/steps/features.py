"""features: comments → fitted FeatureBuilder (train split only) → sparse features of every row."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
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


def as_strings(column: pd.Series) -> pd.Series:
    """``column`` as strings; a column already holding Python strings is returned as it is (a copy
    of 1M comment texts costs ~0.4 GB; strings hash alike in the object and str dtypes)."""
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=False) == "string":
        return column
    return column.astype(str)


HASH_CHUNK_ROWS = 50_000  # rows hashed at a time: hashing 1M texts at once held ~1.2 GB more


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One uint64 per row of the hashed columns as strings (a row's hash depends on that row only)."""
    columns = ["id", "text", "split", *label_columns(frame)]
    parts = [np.empty(0, dtype=np.uint64)]
    for start in range(0, len(frame), HASH_CHUNK_ROWS):
        chunk = frame.iloc[start : start + HASH_CHUNK_ROWS]
        as_text = pd.DataFrame({c: as_strings(chunk[c]) for c in columns})
        parts.append(pd.util.hash_pandas_object(as_text, index=False).to_numpy())
    return np.concatenate(parts)


def input_hash(frame: pd.DataFrame) -> str:
    """A content hash of what the features depend on (ids, texts, labels, split), order-sensitive."""
    return hashlib.sha256(_row_hashes(frame).tobytes()).hexdigest()


def input_hash_by_id(frame: pd.DataFrame) -> str:
    """:func:`input_hash` of the rows in (stable) id order, without a sorted copy of the frame: a
    row's hash depends on that row alone, so the hashes are sorted instead of the rows."""
    order = frame["id"].argsort(kind="stable").to_numpy()
    return hashlib.sha256(_row_hashes(frame)[order].tobytes()).hexdigest()


def order_rows(comments: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The comments checked and ordered train first, then test (each in id order), + label columns."""
    for column in ("id", "text", "split"):
        if column not in comments.columns:
            raise DataError(f"the comments table has no {column!r} column; rerun the load step")
    labels = label_columns(comments)
    if not labels:
        raise DataError("the comments table has no label_<name> columns: nothing to train on")
    frame = comments.assign(_test=comments["split"].ne("train")).sort_values(["_test", "id"], kind="stable")
    if not (~frame["_test"]).any():
        raise DataError("no rows in the train split; check transform.test_size and the input data")
    y = frame[labels]
    if y.isna().any().any():
        raise DataError(f"missing label values in {', '.join(c for c in labels if y[c].isna().any())}")
    return frame, labels


def describe_rows(
    comments: pd.DataFrame, frame: pd.DataFrame, labels: list[str], builder: Any, seconds: dict[str, float]
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """(labels array, rows, metadata without the matrix's shape) of the ordered rows."""
    label_array = frame[labels].to_numpy().astype(np.int8)
    rows = pd.DataFrame({"id": frame["id"].astype(str).to_numpy(), "split": np.where(frame["_test"], "test", "train")})
    names = [c[len(LABEL_PREFIX) :] for c in labels]
    n_train = int((~frame["_test"]).sum())
    metadata = {
        "feature_groups": _groups(builder.get_feature_names_out()),
        "engineered_features": builder.engineered_names() if builder.engineered else [],
        "labels": names,
        "label_columns": labels,
        "split_sizes": {"train": n_train, "test": int(len(frame) - n_train)},
        "positives": {
            name: {"train": int(label_array[:n_train, j].sum()), "test": int(label_array[n_train:, j].sum())}
            for j, name in enumerate(names)
        },
        "preprocessing": dict(builder.preprocessor.settings),
        "nltk_resources": builder.required_resources(),
        "input_hash": input_hash_by_id(comments),
        "seconds": seconds,
    }
    return label_array, rows, metadata


def add_shape(metadata: dict[str, Any], n_rows: int, n_features: int, nnz: int) -> None:
    metadata.update(feature_names_count=int(n_features), shape=[int(n_rows), int(n_features)], nnz=int(nnz))


def build_features(
    comments: pd.DataFrame, builder: FeatureBuilder
) -> tuple[sp.csr_matrix, np.ndarray, pd.DataFrame, dict[str, Any]]:
    """Fit ``builder`` on the train rows; return (features, labels, rows, metadata) for all rows.

    Rows are ordered train first, then test (each in id order), so the result is deterministic.
    """
    frame, labels = order_rows(comments)
    train, test = frame[~frame["_test"]], frame[frame["_test"]]
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    x_train = builder.fit_transform(train["text"].fillna("").tolist())
    seconds["fit_transform_train"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    x_test = builder.transform(test["text"].fillna("").tolist()) if len(test) else None
    seconds["transform_test"] = round(time.perf_counter() - t0, 3)
    features = x_train if x_test is None else sp.vstack([x_train, x_test], format="csr")
    label_array, rows, metadata = describe_rows(comments, frame, labels, builder, seconds)
    add_shape(metadata, features.shape[0], features.shape[1], features.nnz)
    return features, label_array, rows, metadata


def stream_features(
    comments: pd.DataFrame, builder: Any, scratch: Path, block_rows: int
) -> tuple[Iterator[sp.csr_matrix], np.ndarray, pd.DataFrame, dict[str, Any]]:
    """:func:`build_features` for a chunk-fittable featuriser (hashing): the counting pass runs here,
    the rows come as a lazy stream of CSR blocks (train blocks, then test blocks; the metadata's shape
    is added once they are written). The blocks equal :func:`build_features`'s matrix row for row."""
    from socialscore.modeling.hashing_blocks import fit_counts, weighted_blocks

    frame, labels = order_rows(comments)
    texts = as_strings(frame["text"].fillna("")).to_numpy(dtype=object)
    n_train = int((~frame["_test"]).sum())
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    count_paths = fit_counts(builder, texts[:n_train], scratch, block_rows)
    seconds["count_train"] = round(time.perf_counter() - t0, 3)
    label_array, rows, metadata = describe_rows(comments, frame, labels, builder, seconds)
    return weighted_blocks(builder, count_paths, texts[n_train:], block_rows), label_array, rows, metadata


LANGUAGE_SAMPLE = 3000  # texts detected for the profile: shares to ~1%, at ~0.3 ms a text


def training_languages(comments: pd.DataFrame) -> dict[str, Any]:
    """The languages and scripts of the train split (a LanguageProfile's state, saved with the model)."""
    from socialscore.modeling.language import LanguageProfile

    train = as_strings(comments.loc[comments["split"] == "train", "text"].fillna("")).tolist()
    return LanguageProfile.from_texts(train, sample=LANGUAGE_SAMPLE).to_state()


def _groups(names: np.ndarray) -> dict[str, int]:
    """Columns per feature family (``word``, ``char``, ``eng``): a plain loop, as the hashed
    featuriser has millions of names and pandas' string methods take seconds on them."""
    from collections import Counter

    return dict(Counter(name.split("__", 1)[0] for name in names))


def run(ctx: StepContext) -> None:
    comments, builder, read_seconds = read_inputs(ctx)
    from socialscore.modeling.hashing_blocks import is_streamable

    if is_streamable(builder):
        metadata, labels, rows = _write_streamed(ctx, comments, builder)
    else:
        metadata, labels, rows = write_matrix(ctx, *build_features(comments, builder))
    record(ctx, comments, builder, (metadata, labels, rows), read_seconds)


def read_inputs(ctx: StepContext) -> tuple[pd.DataFrame, Any, float]:
    """(the comments with the train-split mitigations, the unfitted featuriser, seconds to read);
    every engine's features step starts here."""
    t0 = time.perf_counter()
    comments = ctx.read("comments")
    # Python strings, once: the pyarrow-backed text column would be copied by every sort and
    # again by every conversion to a list (~0.4 GB each at 1M comments)
    comments["text"] = comments["text"].astype(object)
    comments = mitigate_train_split(comments, ctx.settings.features)
    read_seconds = time.perf_counter() - t0
    from socialscore.modeling.hashing import featuriser_from_settings

    builder = featuriser_from_settings(ctx.settings, nltk_cache_dir=ctx.layout.nltk_cache_dir)
    builder.preprocessor.prepare()  # a missing NLTK resource fails here, before any work
    return comments, builder, read_seconds


def write_matrix(
    ctx: StepContext, features: sp.csr_matrix, labels: np.ndarray, rows: pd.DataFrame, metadata: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """Write a whole feature matrix (as row blocks); (metadata, labels, rows) for :func:`record`."""
    t0 = time.perf_counter()
    ctx.write("features", features)
    metadata["seconds"]["write"] = round(time.perf_counter() - t0, 3)
    return metadata, labels, rows


def record(
    ctx: StepContext, comments: pd.DataFrame, builder: Any,
    built: tuple[dict[str, Any], np.ndarray, pd.DataFrame], read_seconds: float,
) -> None:
    """Write everything but the features (already written), report, and free the step's memory."""
    metadata, labels, rows = built
    metadata["features_settings"] = ctx.settings.features.model_dump(mode="json")
    metadata["languages"] = training_languages(comments)
    metadata["seconds"]["read"] = round(read_seconds, 3)
    ctx.write("labels", labels)
    ctx.write("rows", rows)
    ctx.write("vectorizer", builder)
    ctx.write("features_metadata", metadata)
    n_rows, n_features = metadata["shape"]
    ctx.info(
        f"{n_rows} rows × {n_features} features "
        f"(train {metadata['split_sizes']['train']}, test {metadata['split_sizes']['test']})"
    )
    ctx.fact("rows", int(n_rows))
    ctx.fact("features", int(n_features))
    for phase, seconds in metadata["seconds"].items():
        ctx.fact(f"{phase}_s", seconds)
    del comments, labels, rows, built
    release_memory()


def release_memory() -> None:
    """Stop idle featuriser worker processes and hand freed heap back to the OS: the pipeline runs
    every step in one process, and the next steps' peak should not sit on top of this one's."""
    import gc
    import sys

    if "joblib.externals.loky" in sys.modules:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _write_streamed(ctx: StepContext, comments: pd.DataFrame, builder: Any) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """Fit by chunks and write the features as row blocks, never holding the whole matrix."""
    import tempfile

    from socialscore.modeling.out_of_core_blocks import DEFAULT_BLOCK_ROWS

    ctx.layout.processed_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".feature-counts-", dir=ctx.layout.processed_dir) as scratch:
        blocks, labels, rows, metadata = stream_features(comments, builder, Path(scratch), DEFAULT_BLOCK_ROWS)
        t0 = time.perf_counter()
        ctx.write("features", blocks)
        metadata["seconds"]["transform_and_write"] = round(time.perf_counter() - t0, 3)
    written = ctx.read("features")
    add_shape(metadata, written.n_rows, written.n_features, written.nnz)
    return metadata, labels, rows
