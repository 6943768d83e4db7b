"""features: comments → fitted FeatureBuilder (train split only) → sparse features of every row."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from socialscore.errors import DataError
from socialscore.modeling.behaviour.mitigation import mitigate_train_split
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.steps.features_rows import (
    LABEL_PREFIX,
    NO_TRAIN_ROWS,
    as_strings,
    input_hash_by_id,
    label_values,
    order_rows,
    training_languages,
)

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepContext


def describe_rows(
    comments: pd.DataFrame, frame: pd.DataFrame, labels: list[str], builder: Any, seconds: dict[str, float]
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """(labels array, rows, metadata without the matrix's shape) of the ordered rows."""
    n_train = int((~frame["_test"]).sum())
    ids = frame["id"].astype(str)
    return describe(ids, label_values(frame, labels), n_train, labels, builder, seconds, input_hash_by_id(comments))


def describe(
    ids: pd.Series, label_array: np.ndarray, n_train: int, labels: list[str], builder: Any,
    seconds: dict[str, float], content_hash: str,
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """:func:`describe_rows` of rows given as ids (strings) and labels (train rows first)."""
    # the ids as one array again (not Arrow chunks): the rows artifact's bytes stay as they were
    rows = pd.DataFrame({"id": ids.to_numpy(dtype=object), "split": np.where(np.arange(len(ids)) < n_train, "train", "test")})
    names = [c[len(LABEL_PREFIX) :] for c in labels]
    metadata = {
        "feature_groups": _groups(builder.get_feature_names_out()),
        "engineered_features": builder.engineered_names() if builder.engineered else [],
        "labels": names,
        "label_columns": labels,
        "split_sizes": {"train": n_train, "test": int(len(ids) - n_train)},
        "positives": {
            name: {"train": int(label_array[:n_train, j].sum()), "test": int(label_array[n_train:, j].sum())}
            for j, name in enumerate(names)
        },
        "preprocessing": dict(builder.preprocessor.settings),
        "nltk_resources": builder.required_resources(),
        "input_hash": content_hash,
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
    source: Any, builder: Any, scratch: Path
) -> tuple[Iterator[sp.csr_matrix], Callable[[], tuple[np.ndarray, pd.DataFrame, dict[str, Any]]]]:
    """:func:`build_features` for a chunk-fittable featurizer (hashing) over ``source``'s ordered
    chunks (steps.features_rows: FrameRows, TableRows): the counting pass runs here; the rows come as a lazy stream of CSR
    blocks (train blocks, then test blocks), then ``described()`` gives (labels, rows, metadata
    without the shape). The blocks equal :func:`build_features`'s matrix row for row."""
    from socialscore.modeling.featurizers.hashing_blocks import fit_counts, weighted_blocks

    # (ids, labels) of each chunk, in order; the ids as Arrow strings (~20 bytes an id, not ~70)
    kept: list[tuple[pd.Series, np.ndarray]] = []

    def texts(chunks: Iterator[pd.DataFrame]) -> Iterator[list[str]]:
        for chunk in chunks:
            kept.append((chunk["id"].astype(str), label_values(chunk, source.labels)))
            yield as_strings(chunk["text"].fillna("")).tolist()

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    train = texts(source.train())
    first = next(train, None)
    if first is None:
        raise DataError(NO_TRAIN_ROWS)
    count_paths = fit_counts(builder, chain([first], train), scratch)
    seconds["count_train"] = round(time.perf_counter() - t0, 3)
    trim_heap()  # the counting pass's freed chunks, before the blocks are built
    n_train = sum(len(ids) for ids, _ in kept)

    def described() -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
        ids = pd.concat([ids for ids, _ in kept], ignore_index=True)
        label_array = np.concatenate([y for _, y in kept])
        return describe(ids, label_array, n_train, source.labels, builder, seconds, source.input_hash())

    return weighted_blocks(builder, count_paths, texts(source.test())), described


def _groups(names: np.ndarray) -> dict[str, int]:
    """Columns per feature family (``word``, ``char``, ``eng``): a plain loop, as the hashed
    featurizer has millions of names and pandas' string methods take seconds on them."""
    from collections import Counter

    return dict(Counter(name.split("__", 1)[0] for name in names))


def run(ctx: StepContext) -> None:
    from socialscore.modeling.featurizers.hashing_blocks import is_streamable
    from socialscore.modeling.training.out_of_core_blocks import DEFAULT_BLOCK_ROWS

    builder = featurizer(ctx, comment_count(ctx))
    ctx.fact("vectorizer", "hashing" if is_streamable(builder) else "vocabulary")
    if not is_streamable(builder):
        comments, read_seconds = read_comments(ctx)
        built = write_matrix(ctx, *build_features(comments, builder))
        record(ctx, training_languages(comments), builder, built, read_seconds)
        return
    from socialscore.steps.features_rows import FrameRows, TableRows

    if ctx.settings.features.negative_repeats > 1:  # the repeated rows (ids "<id>~k") need the whole table
        source: FrameRows | TableRows = FrameRows(*read_comments(ctx), DEFAULT_BLOCK_ROWS)
    else:
        if not ctx.exists("comments"):
            ctx.read("comments")  # raises the standard "run step 'load' first" error
        source = TableRows(ctx.db, ctx.location("comments"), ctx.settings.features, DEFAULT_BLOCK_ROWS)
    built = _write_streamed(ctx, source, builder)
    record(ctx, source.languages(), builder, built, source.read_seconds)


def comment_count(ctx: StepContext) -> int | None:
    """Rows of the transform step's output (= the comments table), from the Parquet footer; None if absent."""
    import pyarrow.parquet as pq

    path = Path(ctx.location("clean"))
    return pq.ParquetFile(path).metadata.num_rows if path.is_file() else None


def read_inputs(ctx: StepContext) -> tuple[pd.DataFrame, Any, float]:
    """(the comments with the train-split mitigations, the unfitted featurizer, seconds to read):
    the whole-table start of the step (the Beam engine's)."""
    comments, read_seconds = read_comments(ctx)
    return comments, featurizer(ctx), read_seconds


def read_comments(ctx: StepContext) -> tuple[pd.DataFrame, float]:
    """(the whole comments table with the train-split mitigations, seconds to read)."""
    t0 = time.perf_counter()
    comments = ctx.read("comments")
    # Python strings, once: the pyarrow-backed text column would be copied by every sort and
    # again by every conversion to a list (~0.4 GB each at 1M comments)
    comments["text"] = comments["text"].astype(object)
    comments = mitigate_train_split(comments, ctx.settings.features)
    return comments, time.perf_counter() - t0


def featurizer(ctx: StepContext, n_rows: int | None = None) -> Any:
    """The unfitted featurizer of the settings (``auto``: chosen by ``n_rows``, the comments to
    featurize), its NLTK resources checked before any work."""
    from socialscore.modeling.featurizers.factory import featurizer_from_settings

    builder = featurizer_from_settings(ctx.settings, nltk_cache_dir=ctx.layout.nltk_cache_dir, n_rows=n_rows)
    builder.preprocessor.prepare()  # a missing NLTK resource fails here, before any work
    return builder


def write_matrix(
    ctx: StepContext, features: sp.csr_matrix, labels: np.ndarray, rows: pd.DataFrame, metadata: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """Write a whole feature matrix (as row blocks); (metadata, labels, rows) for :func:`record`."""
    t0 = time.perf_counter()
    ctx.write("features", features)
    metadata["seconds"]["write"] = round(time.perf_counter() - t0, 3)
    return metadata, labels, rows


def record(
    ctx: StepContext, languages: dict[str, Any], builder: Any,
    built: tuple[dict[str, Any], np.ndarray, pd.DataFrame], read_seconds: float,
) -> None:
    """Write everything but the features (already written), report, and free the step's memory;
    ``languages``: :func:`training_languages`'s profile."""
    metadata, labels, rows = built
    metadata["features_settings"] = ctx.settings.features.model_dump(mode="json")
    metadata["languages"] = languages
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
    del labels, rows, built
    release_memory()


def release_memory() -> None:
    """Stop idle featurizer worker processes and hand freed heap back to the OS: the pipeline runs
    every step in one process, and the next steps' peak should not sit on top of this one's."""
    import sys

    if "joblib.externals.loky" in sys.modules:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    trim_heap()


def trim_heap() -> None:
    """Collect garbage and hand the freed heap back to the OS (glibc keeps it otherwise)."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _write_streamed(ctx: StepContext, source: Any, builder: Any) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """Fit by chunks and write the features as row blocks, never holding the whole matrix."""
    import tempfile

    ctx.layout.processed_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".feature-counts-", dir=ctx.layout.processed_dir) as scratch:
        blocks, described = stream_features(_Progressing(source, ctx), builder, Path(scratch))
        t0 = time.perf_counter()
        ctx.write("features", blocks)
        transformed = round(time.perf_counter() - t0, 3)
    release_memory()  # the worker processes are done: the rest of the step runs without them
    labels, rows, metadata = described()
    metadata["seconds"]["transform_and_write"] = transformed
    written = ctx.read("features")
    add_shape(metadata, written.n_rows, written.n_features, written.nnz)
    return metadata, labels, rows


class _Progressing:
    """``source`` whose train and test chunks show their progress (rows done, rows/s) on the console."""

    def __init__(self, source: Any, ctx: StepContext) -> None:
        self._source, self._ctx = source, ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def train(self) -> Iterator[pd.DataFrame]:
        return self._ctx.progress_rows(self._source.train(), None, "counting n-grams (training rows)")

    def test(self) -> Iterator[pd.DataFrame]:
        return self._ctx.progress_rows(self._source.test(), None, "featurizing the test rows")
