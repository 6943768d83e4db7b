"""``socialscore predict --engine beam``: the local engine's chunk reader and scorer inside a Beam pipeline.

    read_chunks (driver-side file, one element per chunk, numbered)
      → Reshuffle (chunks spread over workers)
      → ScoreChunk (bundle loaded once per worker; steps.predict.score_chunk on each chunk)
      → one part file per chunk (escaped like the local CSV, no header)
      → concatenate the parts in chunk order under the header: byte for byte the local output.

The local runner is Beam's ``FnApiRunner``, named explicitly: the default (Prism) runner downloads
a binary, which must never happen here. On Dataflow pass ``--runner DataflowRunner`` with its usual
options (``--project``, ``--region``, ``--temp_location gs://…``, ``--requirements_file`` or a
``--sdk_container_image`` holding socialscore) and ``gs://`` paths for input, output and models.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import apache_beam as beam
import pandas as pd
from apache_beam.io.filesystems import FileSystems

from socialscore.scoring import DEFAULT_RISK_THRESHOLDS

PARTS_SUFFIX = ".parts"


def load_scorer(models_dir: str, risk_thresholds: tuple[float, float]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The one place the Beam engine meets the model: (id, text) chunk → the local engine's scored frame."""
    from socialscore.bundle import load_bundle
    from socialscore.steps.predict import score_chunk

    bundle = load_bundle(Path(localise_dir(models_dir)))
    bundle.vectorizer.n_jobs = 1  # Beam runs the parallelism; no worker processes inside a DoFn
    return lambda chunk: score_chunk(bundle, chunk, risk_thresholds)


def localise_dir(path: str) -> str:
    """A local copy of a ``gs://`` (any Beam filesystem) directory; local paths pass through."""
    if "://" not in path:
        return path
    target = Path(tempfile.mkdtemp(prefix="socialscore-models-"))
    for match in FileSystems.match([path.rstrip("/") + "/*"])[0].metadata_list:
        with FileSystems.open(match.path) as source, open(target / Path(match.path).name, "wb") as out:
            shutil.copyfileobj(source, out)
    return str(target)


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
    def __init__(self, models_dir: str, risk_thresholds: tuple[float, float]) -> None:
        self.models_dir, self.risk_thresholds = models_dir, risk_thresholds

    def setup(self) -> None:
        self.score = load_scorer(self.models_dir, self.risk_thresholds)

    def process(self, element: tuple[int, pd.DataFrame]) -> Iterator[tuple[int, pd.DataFrame]]:
        number, chunk = element
        yield number, self.score(chunk)


def write_part(element: tuple[int, pd.DataFrame], parts_dir: str) -> tuple[int, str]:
    from socialscore.csvsafe import write_csv_safe

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


def csv_header(models_dir: str) -> str:
    """The output's header line, as the local engine writes it (from the bundle's labels)."""
    from socialscore.csvsafe import write_csv_safe
    from socialscore.steps.predict import output_columns

    manifest = _manifest(models_dir)
    text = io.StringIO()
    write_csv_safe(pd.DataFrame(columns=output_columns(manifest["labels"])), text, header=True)
    return text.getvalue()


def _manifest(models_dir: str) -> dict[str, Any]:
    import json

    from socialscore.bundle import MANIFEST_FILE

    with FileSystems.open(FileSystems.join(models_dir, MANIFEST_FILE)) as handle:
        return json.loads(handle.read().decode("utf-8"))


def build_predict(
    pipeline: beam.Pipeline,
    input_path: str,
    output: str,
    models_dir: str,
    text_column: str | None = None,
    chunk_size: int = 20_000,
    risk_thresholds: tuple[float, float] = DEFAULT_RISK_THRESHOLDS,
) -> None:
    """Add the batch-prediction transforms to ``pipeline`` (run it to score)."""
    parts_dir = output + PARTS_SUFFIX
    header = csv_header(models_dir)
    _ = (
        pipeline
        | "Input" >> beam.Create([input_path])
        | "ReadChunks" >> beam.FlatMap(read_chunks, text_column, chunk_size)
        | "Spread" >> beam.Reshuffle()
        | "Score" >> beam.ParDo(ScoreChunk(models_dir, tuple(risk_thresholds)))
        | "WritePart" >> beam.Map(write_part, parts_dir)
        | "AllParts" >> beam.combiners.ToList()
        | "Concatenate" >> beam.Map(concatenate, output, header)
    )


def local_runner() -> Any:
    """Beam's in-process runner (never the Prism runner, which downloads a binary)."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def predict_file_beam(
    input_path: str,
    output: str,
    models_dir: str,
    text_column: str | None = None,
    chunk_size: int = 20_000,
    pipeline_args: list[str] | None = None,
) -> None:
    """Score a CSV through Beam: FnApiRunner unless ``pipeline_args`` name another ``--runner``."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if "://" not in input_path:  # the local engine's errors (no file, no text column) before any work
        from socialscore.steps.predict import read_text_chunks

        next(read_text_chunks(Path(input_path), text_column, 1), None)
    if "://" not in models_dir:
        from socialscore.bundle import load_bundle

        load_bundle(Path(models_dir))  # a missing or tampered bundle fails here, as it does locally
    options = PipelineOptions(pipeline_args or [])
    runner = None if any(a.startswith("--runner") for a in pipeline_args or []) else local_runner()
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        build_predict(pipeline, input_path, output, models_dir, text_column, chunk_size)
