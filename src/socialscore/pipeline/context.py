"""What a step declares (StepSpec) and what it is handed when it runs (StepContext)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from socialscore.errors import MissingArtifactError
from socialscore.pipeline.artifacts import (
    ARTIFACTS,
    Artifact,
    read_file_artifact,
    write_file_artifact,
)
from socialscore.storage.parquet import iter_parquet

if TYPE_CHECKING:
    from rich.console import Console

    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry
    from socialscore.storage.db.database import Database

T = TypeVar("T")
MODEL, MODEL_METADATA = "model", "model_metadata"  # read("model") loads the pipeline through the registry


@dataclass(frozen=True)
class StepSpec:
    """A step: the artifacts it reads and writes, the config keys it reads, and its adapter.

    ``run`` is a thin adapter: it reads inputs through the context, calls the step's pure function
    and writes outputs through the context. ``sources`` names extra input files (extract's CSVs).
    ``engines`` maps another engine's name to its adapter for this step (``beam``: the step as a Beam
    pipeline); a step without one runs ``run`` under every engine.
    """

    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    config: tuple[str, ...]
    run: Callable[[StepContext], None]
    sources: Callable[[Layout, Settings], list[Path]] | None = None
    description: str = ""
    engines: Mapping[str, Callable[[StepContext], None]] = field(default_factory=dict, hash=False, compare=False)

    def adapter(self, engine: str) -> Callable[[StepContext], None]:
        """The adapter that runs this step under ``engine``."""
        return self.engines.get(engine, self.run)


@dataclass
class StepContext:
    step: str
    settings: Settings
    layout: Layout
    logger: logging.Logger
    console: Console | None = None
    database_factory: Callable[[], Database] | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=lambda: ARTIFACTS)
    run_id: str | None = None
    engine: str = "local"  # or "beam": transform and features as Beam pipelines (socialscore.beam)
    beam_args: tuple[str, ...] = ()  # Beam pipeline options, e.g. --runner=DataflowRunner

    # --- artifacts ------------------------------------------------------------------------------
    def location(self, key: str) -> Any:
        """The path (or table name) of an artifact for this project and mode."""
        return self.artifacts[key].locate(self.layout, self.settings)

    def exists(self, key: str) -> bool:
        artifact = self.artifacts[key]
        if artifact.kind == "table":
            return self.db.table_exists(self.location(key))
        return Path(self.location(key)).exists()

    def read(self, key: str) -> Any:
        if key == MODEL:
            return self._read_model()
        artifact = self._require(key)
        if artifact.kind == "table":
            return self.db.read_table(self.location(key))
        return read_file_artifact(artifact.kind, Path(self.location(key)))

    def _read_model(self) -> Any:
        """The ScoringPipeline this mode's train step registered, its files checked against the sha256
        the registry (the database) recorded for that version."""
        from socialscore.errors import ModelError

        if not self.exists(MODEL_METADATA):
            raise ModelError(
                f"no trained model for mode {self.settings.mode} ({self.location(MODEL_METADATA)} missing); "
                "run the 'train' step first"
            )
        metadata = self.read(MODEL_METADATA)
        version = metadata.get("model_version") if isinstance(metadata, dict) else None
        if not isinstance(version, str):
            raise ModelError(f"{self.location(MODEL_METADATA)} names no model version; rerun the 'train' step")
        return self.registry.load(version)

    def read_chunks(self, key: str, rows: int) -> Iterator[Any]:
        """A parquet artifact as frames of at most ``rows`` rows (index = row number)."""
        if self._require(key).kind != "parquet":
            raise ValueError(f"{key} is not a parquet artifact")
        return iter_parquet(Path(self.location(key)), rows)

    def _require(self, key: str) -> Artifact:
        artifact = self.artifacts[key]
        if not self.exists(key):
            raise MissingArtifactError(
                f"step '{self.step}' needs {key} ({self.location(key)}), which does not exist; "
                f"run step '{artifact.producer}' first"
            )
        return artifact

    def write(self, key: str, value: Any) -> None:
        artifact = self.artifacts[key]
        if artifact.kind == "table":
            self.db.replace_table(self.location(key), value)
        else:
            write_file_artifact(artifact.kind, Path(self.location(key)), value)

    @cached_property
    def db(self) -> Database:
        if self.database_factory is None:
            from socialscore.storage.db.database import Database

            return Database.from_settings(self.settings, self.layout)
        return self.database_factory()

    @cached_property
    def registry(self) -> ModelRegistry:
        """The project's model registry, in the same database as the comments."""
        from socialscore.registry.store import ModelRegistry

        return ModelRegistry.for_project(self.settings, self.layout, self.db)

    # --- reporting ------------------------------------------------------------------------------
    def info(self, message: str) -> None:
        """A line for the console and the log (never comment text)."""
        self.logger.info("[%s] %s", self.step, message)

    def warn(self, message: str) -> None:
        self.logger.warning("[%s] %s", self.step, message)

    def fact(self, name: str, value: Any) -> None:
        """A figure the run summary shows for this step (rows in, rows kept, AUC ...)."""
        self.facts[name] = value

    def row_progress(self, description: str, total: int | None) -> AbstractContextManager[Callable[[int], None]]:
        """``with ctx.row_progress("scoring", n) as advance: ... advance(rows)``: rows done and rows/s, a rich
        bar on a terminal, a plain line every few seconds otherwise (pipeline.progress)."""
        from socialscore.pipeline.progress import row_progress

        return row_progress(self.console, f"[{self.step}] {description}", total)

    def progress_rows(self, frames: Iterable[T], total: int | None, description: str) -> Iterator[T]:
        """Pass frames (anything with a length) through, showing rows done and rows/s (:meth:`row_progress`)."""
        with self.row_progress(description, total) as advance:
            for frame in frames:
                yield frame
                advance(len(frame))  # type: ignore[arg-type]

    def progress(self, items: Iterable[T], total: int | None, description: str) -> Iterator[T]:
        """Iterate with a rich progress bar on a terminal; plain iteration otherwise."""
        if self.console is None or not self.console.is_terminal:
            yield from items
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=total)
            for item in items:
                yield item
                bar.advance(task)
