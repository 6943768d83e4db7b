"""``socialscore predict --engine beam``: the local engine's chunk reader and scorer inside a Beam pipeline.

    read_chunks (driver-side file, one element per chunk, numbered)
      → Reshuffle (chunks spread over workers)
      → ScoreChunk (bundle loaded once per worker; steps.predict.score_chunk on each chunk)
      → one part file per chunk (escaped like the local CSV, no header)
      → concatenate the parts in chunk order under the header: byte for byte the local output.

The runner is chosen by :mod:`socialscore.beam.runner` (``FnApiRunner`` unless ``--runner`` is
given). On Dataflow pass ``--runner DataflowRunner`` with its usual options (``--project``, ``--region``, ``--temp_location gs://…``, ``--requirements_file`` or a
``--sdk_container_image`` holding socialscore) and ``gs://`` paths for input, output and models.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import apache_beam as beam
import pandas as pd
from apache_beam.io.filesystems import FileSystems

from socialscore.beam.runner import local_runner, localise_dir, make_pipeline

__all__ = ["build_predict", "local_runner", "predict_file_beam"]  # local_runner: re-exported

PARTS_SUFFIX = ".parts"


def load_scorer(models_dir: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The one place the Beam engine meets the model: (id, text) chunk → the local engine's scored frame,
    through the served ScoringPipeline (files checked against bundle.json, nothing unpickled)."""
    from socialscore.registry.serving import load_served
    from socialscore.steps.predict import score_chunk

    pipeline = load_served(Path(localise_dir(models_dir)))
    pipeline.featurizer.n_jobs = 1  # Beam runs the parallelism; no worker processes inside a DoFn
    return lambda chunk: score_chunk(pipeline, chunk)


def localise_file(path: str) -> Path:
    if "://" not in path:
        return Path(path)
    handle, name = tempfile.mkstemp(prefix="socialscore-input-", suffix=Path(path).suffix)
    with FileSystems.open(path) as source, open(handle, "wb") as out:
        shutil.copyfileobj(source, out)
    return Path(name)


def read_chunks(input_path: str, text_column: str | None, chunk_size: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """Numbered (id, text) chunks, read exactly as the local engine reads them."""
    from socialscore.steps.predict import read_text_chunks

    yield from enumerate(read_text_chunks(localise_file(input_path), text_column, chunk_size))


class ScoreChunk(beam.DoFn):
    def __init__(self, models_dir: str) -> None:
        self.models_dir = models_dir

    def setup(self) -> None:
        self.score = load_scorer(self.models_dir)

    def process(self, element: tuple[int, pd.DataFrame]) -> Iterator[tuple[int, pd.DataFrame]]:
        number, chunk = element
        yield number, self.score(chunk)


def write_part(element: tuple[int, pd.DataFrame], parts_dir: str) -> tuple[int, str]:
    from socialscore.storage.csvsafe import write_csv_safe

    number, frame = element
    text = io.StringIO()
    write_csv_safe(frame, text, header=False)
    path = FileSystems.join(parts_dir, f"part-{number:08d}.csv")
    with FileSystems.create(path) as out:
        out.write(text.getvalue().encode("utf-8"))
    return number, path


def concatenate(parts: list[tuple[int, str]], output: str, header: str) -> int:
    """Write ``header`` then every part in chunk order to ``output``; remove the parts."""
    ordered = [path for _, path in sorted(parts)]
    with FileSystems.create(output) as out:
        out.write(header.encode("utf-8"))
        for path in ordered:
            with FileSystems.open(path) as part:
                shutil.copyfileobj(part, out)
    if ordered:
        FileSystems.delete(ordered)
    parts_dir = output + PARTS_SUFFIX
    if FileSystems.exists(parts_dir):  # a local directory (object stores have none)
        FileSystems.delete([parts_dir])
    return len(ordered)


def csv_header(labels: list[str]) -> str:
    """The output's header line, as the local engine writes it (from the model's labels)."""
    from socialscore.steps.predict import output_columns
    from socialscore.storage.csvsafe import write_csv_safe

    text = io.StringIO()
    write_csv_safe(pd.DataFrame(columns=output_columns(labels)), text, header=True)
    return text.getvalue()


def served_labels(models_dir: str) -> list[str]:
    """The served model's labels (loading it also refuses a missing or tampered model before any work)."""
    from socialscore.registry.serving import load_served

    return load_served(Path(localise_dir(models_dir))).labels


def build_predict(
    pipeline: beam.Pipeline,
    input_path: str,
    output: str,
    models_dir: str,
    text_column: str | None = None,
    chunk_size: int = 20_000,
) -> None:
    """Add the batch-prediction transforms to ``pipeline`` (run it to score)."""
    parts_dir = output + PARTS_SUFFIX
    header = csv_header(served_labels(models_dir))
    _ = (
        pipeline
        | "Input" >> beam.Create([input_path])
        | "ReadChunks" >> beam.FlatMap(read_chunks, text_column, chunk_size)
        | "Spread" >> beam.Reshuffle()
        | "Score" >> beam.ParDo(ScoreChunk(models_dir))
        | "WritePart" >> beam.Map(write_part, parts_dir)
        | "AllParts" >> beam.combiners.ToList()
        | "Concatenate" >> beam.Map(concatenate, output, header)
    )


def predict_file_beam(
    input_path: str,
    output: str,
    models_dir: str,
    text_column: str | None = None,
    chunk_size: int = 20_000,
    pipeline_args: list[str] | None = None,
) -> None:
    """Score a CSV through Beam: FnApiRunner unless ``pipeline_args`` name another ``--runner``."""
    if "://" not in input_path:  # the local engine's errors (no file, no text column) before any work
        from socialscore.steps.predict import read_text_chunks

        next(read_text_chunks(Path(input_path), text_column, 1), None)
    with make_pipeline(pipeline_args) as pipeline:
        build_predict(pipeline, input_path, output, models_dir, text_column, chunk_size)
