"""``socialscore run --engine beam``, transform step: steps.transform's functions in a Beam pipeline.

    raw parquet → numbered row chunks (global row index kept) → Reshuffle
      → prepare_rows per chunk (normalise, validate, de-duplication key)           [parallel]
      → id_columns per chunk → gathered → find_id_conflicts once (a few columns)   [one worker]
      → split_rows per chunk, the conflicts as a side input (PII scrubbing)        [parallel]
      → gathered in chunk order → finish once (merge duplicates, sample, split)    [one worker]
      → report.json, clean.parquet, rejected.parquet in the output directory (read back by the driver).

The costly row-local work (normalising and PII scrubbing) runs on every worker; the whole-table
decisions (an id seen with two texts, duplicate merging keeping the first row, the stratified dev
sample, the split balance) need every row and run once, on the slim rows, exactly as locally.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import apache_beam as beam
import pandas as pd
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
from socialscore.errors import SocialScoreError
from socialscore.steps.transform import (
    TransformResult,
    filled,
    find_id_conflicts,
    finish,
    id_columns,
    label_names,
    prepare_rows,
    split_rows,
)

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepContext

REPORT, CLEAN, REJECTED = "report.json", "clean.parquet", "rejected.parquet"  # plain data, no pickle
DEFAULT_CHUNK_ROWS = 20_000


def read_raw_chunks(path: str, chunk_rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """Numbered chunks of extract's table, index = row number; at least one (maybe empty) chunk."""
    with FileSystems.open(path) as source:
        frame = pd.read_parquet(io.BytesIO(source.read())).reset_index(drop=True)
    starts = range(0, len(frame), chunk_rows) if len(frame) else [0]
    for number, start in enumerate(starts):
        yield number, frame.iloc[start : start + chunk_rows]


def conflicts_or_error(parts: list[pd.DataFrame], cfg: Any) -> tuple[Any, pd.Index] | SocialScoreError:
    """find_id_conflicts on every chunk's id columns; its error travels as a value to the driver."""
    ids = pd.concat(parts) if parts else pd.DataFrame({"raw": [], "stripped": [], "key": []})
    try:
        return find_id_conflicts(ids.sort_index(), cfg)
    except SocialScoreError as exc:
        return exc


def split_chunk(element: tuple[int, pd.DataFrame, pd.DataFrame], checked: Any, cfg: Any) -> tuple:
    number, frame, prepared = element
    if isinstance(checked, SocialScoreError):
        return number, None, None, {}, label_names(frame)
    kept, rejected, pii = split_rows(frame, prepared, checked[1], cfg)
    return number, kept, rejected, pii, label_names(frame)


def finish_all(parts: list[tuple], checked: Any, cfg: Any, output_dir: str) -> str:
    """Gather the chunks in order, run finish, write the result (or the id check's error)."""
    if isinstance(checked, SocialScoreError):
        return write_result(checked, output_dir)
    parts = sorted(parts, key=lambda part: part[0])
    kept = pd.concat(filled([p[1] for p in parts]), ignore_index=True)
    rejected = pd.concat(filled([p[2] for p in parts]))
    pii: dict[str, int] = {}
    for part in parts:
        for kind, count in part[3].items():
            pii[kind] = pii.get(kind, 0) + count
    rows_in = len(kept) + len(rejected)  # before de-duplication every row is kept or rejected
    try:
        return write_result(finish(kept, rejected, pii, checked[0], rows_in, parts[0][4], cfg), output_dir)
    except SocialScoreError as exc:
        return write_result(exc, output_dir)


def write_result(result: TransformResult | SocialScoreError, output_dir: str) -> str:
    """report.json (or the error: its class name and message), clean and rejected rows as parquet."""
    path = FileSystems.join(output_dir, REPORT)
    if isinstance(result, SocialScoreError):
        write_bytes(path, json.dumps({"error": type(result).__name__, "message": str(result)}).encode("utf-8"))
        return path
    for name, frame in ((CLEAN, result.clean), (REJECTED, result.rejected)):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_bytes(FileSystems.join(output_dir, name), buffer.getvalue())
    write_bytes(path, json.dumps(result.report).encode("utf-8"))  # last: the result is complete
    return path


def build_transform(
    pipeline: beam.Pipeline, raw_path: str, output_dir: str, cfg: Any, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> None:
    """Add the transform step to ``pipeline``: ``raw_path`` (parquet) → ``output_dir`` (write_result)."""
    prepared = (
        spread_chunks(pipeline, raw_path, read_raw_chunks, chunk_rows)
        | "Prepare" >> beam.Map(lambda e, c: (e[0], e[1], prepare_rows(e[1], c)), cfg)
    )
    checked = (
        prepared
        | "IdColumns" >> beam.Map(lambda e: id_columns(e[1], e[2]))
        | "AllIds" >> beam.combiners.ToList()
        | "FindConflicts" >> beam.Map(conflicts_or_error, cfg)
    )
    _ = (
        prepared
        | "Split" >> beam.Map(split_chunk, beam.pvalue.AsSingleton(checked), cfg)
        | "AllChunks" >> beam.combiners.ToList()
        | "Finish" >> beam.Map(finish_all, beam.pvalue.AsSingleton(checked), cfg, output_dir)
    )


def read_result(output_dir: str) -> TransformResult:
    """The pipeline's TransformResult; the error it met re-raised as the same SocialScoreError class."""
    from socialscore import errors

    report = json.loads(read_bytes(FileSystems.join(output_dir, REPORT)))
    if "error" in report:
        kind = getattr(errors, report["error"], None)
        if not (isinstance(kind, type) and issubclass(kind, SocialScoreError)):
            kind = SocialScoreError
        raise kind(report["message"])
    clean, rejected = (pd.read_parquet(io.BytesIO(read_bytes(FileSystems.join(output_dir, n)))) for n in (CLEAN, REJECTED))
    return TransformResult(clean, rejected, report)


def transform_beam(
    raw_path: Path, cfg: Any, pipeline_args: list[str] | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> TransformResult:
    """steps.transform.transform through Beam on extract's parquet file; the same TransformResult."""
    staging = staging_dir(pipeline_args, "transform")
    try:
        source = put_file(raw_path, staging, "raw.parquet") if is_remote(staging) else str(raw_path)
        with make_pipeline(pipeline_args) as pipeline:
            build_transform(pipeline, source, staging, cfg, chunk_rows)
        return read_result(staging)
    finally:
        remove_dir(staging)


def run(ctx: StepContext) -> None:
    """The transform step on Beam (``socialscore run --engine beam``): the local step's input and
    outputs, the result computed by :func:`transform_beam`."""
    from socialscore.steps.transform import record

    if not ctx.exists("raw"):
        ctx.read("raw")  # the missing-artifact error, before Beam starts
    record(ctx, transform_beam(ctx.location("raw"), ctx.settings.transform, list(ctx.beam_args)))
