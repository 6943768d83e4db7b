"""Running a socialscore Beam pipeline: the runner, its options, and where intermediate files go.

The local runner is Beam's ``FnApiRunner``, named explicitly: Beam's default (Prism) runner downloads
a binary, which must never happen here. Any ``--runner`` in the pipeline arguments (e.g.
``--runner=DataflowRunner`` with ``--project``, ``--region``, ``--temp_location=gs://…`` and
``--sdk_container_image`` or ``--requirements_file``/``--setup_file`` so workers have socialscore)
replaces it. Staging: a pipeline whose workers are not this process cannot read this machine's
files, so with a ``gs://`` (any non-local) ``--temp_location`` the step inputs and outputs are
staged under it; otherwise in a local temporary directory.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions


def local_runner() -> Any:
    """Beam's in-process runner (never the Prism runner, which downloads a binary)."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def names_runner(pipeline_args: list[str] | None) -> bool:
    return any(a.startswith("--runner") for a in pipeline_args or [])


def make_pipeline(pipeline_args: list[str] | None = None) -> beam.Pipeline:
    """A Pipeline on FnApiRunner unless ``pipeline_args`` name another ``--runner``."""
    runner = None if names_runner(pipeline_args) else local_runner()
    return beam.Pipeline(runner=runner, options=PipelineOptions(list(pipeline_args or [])))


def option(pipeline_args: list[str] | None, name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` in ``pipeline_args`` (last wins)."""
    args, found = list(pipeline_args or []), None
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            found = arg.split("=", 1)[1]
        elif arg == f"--{name}" and i + 1 < len(args):
            found = args[i + 1]
    return found


def is_remote(path: str) -> bool:
    return "://" in path


def staging_dir(pipeline_args: list[str] | None, step: str) -> str:
    """A fresh directory for a step's staged files: under a remote ``--temp_location``, else local."""
    temp = option(pipeline_args, "temp_location")
    if temp and is_remote(temp):
        return FileSystems.join(temp.rstrip("/"), f"socialscore-{step}-{uuid.uuid4().hex[:12]}")
    return tempfile.mkdtemp(prefix=f"socialscore-beam-{step}-")


def put_file(local: Path, directory: str, name: str) -> str:
    """Copy a local file into ``directory`` (local or remote); its new path."""
    target = FileSystems.join(directory, name)
    if not is_remote(directory):
        Path(directory).mkdir(parents=True, exist_ok=True)
    with open(local, "rb") as source, FileSystems.create(target) as out:
        shutil.copyfileobj(source, out)
    return target


def write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path) as out:
        out.write(data)


def read_bytes(path: str) -> bytes:
    with FileSystems.open(path) as source:
        return source.read()


def localise_dir(path: str) -> str:
    """A local copy of a ``gs://`` (any Beam filesystem) directory; local paths pass through."""
    if "://" not in path:
        return path
    target = Path(tempfile.mkdtemp(prefix="socialscore-models-"))
    for match in FileSystems.match([path.rstrip("/") + "/*"])[0].metadata_list:
        with FileSystems.open(match.path) as source, open(target / Path(match.path).name, "wb") as out:
            shutil.copyfileobj(source, out)
    return str(target)


def remove_dir(directory: str) -> None:
    """Delete a staging directory (local) or every file under it (object stores have no directories)."""
    if not is_remote(directory):
        shutil.rmtree(directory, ignore_errors=True)
        return
    found = FileSystems.match([directory.rstrip("/") + "/**"])[0].metadata_list
    if found:
        FileSystems.delete([m.path for m in found])


def spread_chunks(pipeline: beam.Pipeline, path: str, reader: Any, chunk_rows: int) -> beam.PCollection:
    """``reader(path, chunk_rows)``'s chunks of one staged file, spread over the workers."""
    return (
        pipeline
        | "Input" >> beam.Create([path])
        | "ReadChunks" >> beam.FlatMap(reader, chunk_rows)
        | "Spread" >> beam.Reshuffle()
    )
