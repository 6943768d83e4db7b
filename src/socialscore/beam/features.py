"""``socialscore run --engine beam``, features step: the hashing featurizer's fit and transform in Beam.

    ordered rows (steps.features_rows.order_rows: train first, then test) staged as parquet
      → numbered chunks of texts (train and test chunks apart) → Reshuffle
      → train chunks: CombineGlobally(CountStatistics): document frequencies per bucket, documents,
        engineered maxima (HashingFeaturizer.count + FitStatistics, merged by addition and maximum)
      → every chunk: HashingFeaturizer._transform_serial with the statistics as a side input
      → one ``block_00000.npz`` per chunk and ``blocks.json`` last: the NpzBlockWriter format, so
        modeling.training.out_of_core_blocks.NpzBlocks reads the directory as it is.

A hashed row depends on its text and the statistics alone, so the rows equal the local engine's.
The fitted-vocabulary featurizer (``features.vectorizer: vocabulary``) needs the whole vocabulary
before any row can be built and has no Beam form: it is refused with a ConfigError.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import apache_beam as beam
import numpy as np
import pandas as pd
import scipy.sparse as sp
from apache_beam.io.filesystems import FileSystems

from socialscore.beam.runner import (
    is_remote,
    make_pipeline,
    put_file,
    read_bytes,
    remove_dir,
    spread_chunks,
    staging_dir,
    write_bytes,
)
from socialscore.errors import ConfigError
from socialscore.modeling.featurizers.hashing import (
    NAME_SAMPLE_TEXTS,
    FitStatistics,
    HashingFeaturizer,
)
from socialscore.modeling.training.out_of_core_blocks import DEFAULT_BLOCK_ROWS, MANIFEST, NpzBlocks

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepContext

STATISTICS = "statistics.npz"


def block_name(number: int) -> str:
    return f"block_{number:05d}.npz"  # NpzBlockWriter's names


def read_text_chunks(path: str, chunk_rows: int) -> Iterator[tuple[int, int, list[str], bool]]:
    """(block number, first row, texts, is train) over the staged rows; train and test chunked apart."""
    with FileSystems.open(path) as source:
        frame = pd.read_parquet(io.BytesIO(source.read()))
    texts, test = frame["text"].tolist(), frame["_test"].to_numpy(dtype=bool)
    n_train = int((~test).sum())
    starts = [*range(0, n_train, chunk_rows), *range(n_train, len(texts), chunk_rows)]
    for number, start in enumerate(starts):
        stop = min(start + chunk_rows, n_train if start < n_train else len(texts))
        yield number, start, texts[start:stop], start < n_train


def merge_statistics(parts: list[FitStatistics]) -> FitStatistics:
    out = parts[0]
    for other in parts[1:]:
        for df, more in zip(out.df, other.df, strict=True):
            df += more
        out.n_docs += other.n_docs
        np.maximum(out.eng_peak, other.eng_peak, out=out.eng_peak)
    return out


class CountStatistics(beam.CombineFn):
    """The counting pass as a combiner: texts → FitStatistics, merged across workers."""

    def __init__(self, featurizer: HashingFeaturizer) -> None:
        self.featurizer = featurizer

    def create_accumulator(self) -> FitStatistics:
        f = self.featurizer
        return FitStatistics(len(f._kinds()), f.n_buckets, len(f.engineered_names()) if f.engineered else 0)

    def add_input(self, acc: FitStatistics, texts: list[str]) -> FitStatistics:
        counts, eng = self.featurizer.count(texts)
        acc.add(counts, eng)
        return acc

    def merge_accumulators(self, accumulators: Any) -> FitStatistics:
        return merge_statistics(list(accumulators))

    def extract_output(self, acc: FitStatistics) -> FitStatistics:
        return acc


def fitted(featurizer: HashingFeaturizer, stats: FitStatistics) -> HashingFeaturizer:
    featurizer.set_statistics(stats)  # idf, min_df mask and engineered scale: all a row needs
    return featurizer


class WriteBlock(beam.DoFn):
    """Transform a chunk with the fitted statistics; write it as one npz block."""

    def __init__(self, featurizer: HashingFeaturizer, output_dir: str) -> None:
        self.featurizer, self.output_dir, self._stats_id = featurizer, output_dir, None

    def process(self, element: tuple[int, int, list[str], bool], stats: FitStatistics) -> Iterator[tuple[int, int, int, int]]:
        if self._stats_id != id(stats):
            fitted(self.featurizer, stats)
            self._stats_id = id(stats)
        number, start, texts, _ = element
        block = self.featurizer._transform_serial(texts)
        buffer = io.BytesIO()
        sp.save_npz(buffer, sp.csr_matrix(block), compressed=False)
        write_bytes(FileSystems.join(self.output_dir, block_name(number)), buffer.getvalue())
        yield number, start, block.shape[0], int(block.nnz)


def write_statistics(stats: FitStatistics, output_dir: str) -> None:
    buffer = io.BytesIO()
    arrays = {f"df_{i}": df for i, df in enumerate(stats.df)}
    np.savez(buffer, n_docs=np.int64(stats.n_docs), eng_peak=stats.eng_peak, **arrays)
    write_bytes(FileSystems.join(output_dir, STATISTICS), buffer.getvalue())


def read_statistics(output_dir: str) -> FitStatistics:
    arrays = np.load(io.BytesIO(read_bytes(FileSystems.join(output_dir, STATISTICS))), allow_pickle=False)
    kinds = sorted(k for k in arrays.files if k.startswith("df_"))
    stats = FitStatistics(len(kinds), len(arrays[kinds[0]]) if kinds else 0, len(arrays["eng_peak"]))
    stats.df = [arrays[k].copy() for k in kinds]
    stats.n_docs = int(arrays["n_docs"])
    stats.eng_peak = arrays["eng_peak"].copy()
    return stats


def write_manifest(blocks: list[tuple[int, int, int, int]], n_features: int, output_dir: str) -> None:
    """blocks.json last, as NpzBlockWriter.close: the directory is complete once it exists."""
    ordered = sorted(blocks)
    manifest = {
        "n_rows": sum(b[2] for b in ordered), "n_features": n_features, "starts": [b[1] for b in ordered],
        "nnz": sum(b[3] for b in ordered), "block_nnz": [b[3] for b in ordered],
    }
    write_bytes(FileSystems.join(output_dir, MANIFEST), json.dumps(manifest).encode("utf-8"))


def build_features_pipeline(
    pipeline: beam.Pipeline, rows_path: str, output_dir: str, featurizer: HashingFeaturizer, chunk_rows: int
) -> None:
    """Add the counting pass and the block writing to ``pipeline`` (rows_path: text, _test columns)."""
    chunks = spread_chunks(pipeline, rows_path, read_text_chunks, chunk_rows)
    stats = (
        chunks
        | "TrainTexts" >> beam.FlatMap(lambda c: [c[2]] if c[3] else [])
        | "Count" >> beam.CombineGlobally(CountStatistics(featurizer))
    )
    _ = stats | "WriteStatistics" >> beam.Map(write_statistics, output_dir)
    _ = (
        chunks
        | "Transform" >> beam.ParDo(WriteBlock(featurizer, output_dir), beam.pvalue.AsSingleton(stats))
        | "AllBlocks" >> beam.combiners.ToList()
        | "Manifest" >> beam.Map(write_manifest, featurizer.n_features_, output_dir)
    )


def prepared_featurizer(builder: Any) -> HashingFeaturizer:
    """The step's featurizer, ready to count (placeholders fixed as its fit_transform fixes them)."""
    if not isinstance(builder, HashingFeaturizer):
        raise ConfigError(
            "--engine beam needs the hashing featurizer (features.vectorizer: hashing); the vocabulary "
            "featurizer must see every text before it can build any row, so it runs on the local engine only"
        )
    from socialscore.modeling.featurizers.engineered import known_placeholders

    builder.placeholders_ = known_placeholders() if builder.engineered else ()
    builder.n_jobs = 1  # Beam runs the parallelism
    return builder


def build_feature_blocks(
    comments: pd.DataFrame,
    builder: Any,
    blocks_dir: str,
    pipeline_args: list[str] | None = None,
    chunk_rows: int = DEFAULT_BLOCK_ROWS,
) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """steps.features.build_features through Beam, the rows left as npz blocks in ``blocks_dir``
    (local or gs://; train blocks first, as the features artifact): (labels, rows, metadata)."""
    import shutil
    import tempfile
    import time

    from socialscore.steps.features import add_shape, describe_rows
    from socialscore.steps.features_rows import as_strings, order_rows

    featurizer = prepared_featurizer(builder)
    frame, label_columns = order_rows(comments)
    n_train = int((~frame["_test"]).sum())
    staging = staging_dir(pipeline_args, "features")
    started = time.perf_counter()
    local = tempfile.mkdtemp(prefix="socialscore-beam-rows-")
    try:
        texts = as_strings(frame["text"].fillna("")).to_numpy(dtype=object)
        rows = pd.DataFrame({"text": texts, "_test": frame["_test"].to_numpy()})
        rows.to_parquet(Path(local) / "rows.parquet", index=False)
        source = put_file(Path(local) / "rows.parquet", staging, "rows.parquet") if is_remote(staging) else str(Path(local) / "rows.parquet")
        with make_pipeline(pipeline_args) as pipeline:
            build_features_pipeline(pipeline, source, blocks_dir, featurizer, chunk_rows)
        fitted(featurizer, read_statistics(blocks_dir))
        featurizer._sample_names(rows["text"].iloc[:n_train].tolist()[:NAME_SAMPLE_TEXTS])
        manifest = json.loads(read_bytes(FileSystems.join(blocks_dir, MANIFEST)))
    finally:
        remove_dir(staging)
        shutil.rmtree(local, ignore_errors=True)
    seconds = {"beam_pipeline": round(time.perf_counter() - started, 3)}
    labels, row_table, metadata = describe_rows(comments, frame, label_columns, featurizer, seconds)
    add_shape(metadata, manifest["n_rows"], featurizer.n_features_, manifest["nnz"])
    return labels, row_table, metadata


def run(ctx: StepContext) -> None:
    """The features step on Beam (``socialscore run --engine beam``): the local step's inputs and
    outputs; Beam's row blocks go into the features artifact one at a time (no whole matrix)."""
    import tempfile
    import time

    from socialscore.steps.features import read_inputs, record, training_languages

    comments, builder, read_seconds = read_inputs(ctx)
    ctx.layout.processed_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".beam-blocks-", dir=ctx.layout.processed_dir) as blocks_dir:
        labels, rows, metadata = build_feature_blocks(comments, builder, blocks_dir, list(ctx.beam_args))
        t0 = time.perf_counter()
        ctx.write("features", (block for _, block in NpzBlocks(Path(blocks_dir))))
        metadata["seconds"]["write"] = round(time.perf_counter() - t0, 3)
    record(ctx, training_languages(comments), builder, (metadata, labels, rows), read_seconds)
