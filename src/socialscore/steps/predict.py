"""predict: score new comments (data/raw/prod.csv, any CSV) or the test split, in chunks.

Scores come from the model's :class:`~socialscore.modeling.scorer.pipeline.ScoringPipeline`, the object the
API calls too, so batch output and the API agree for the same text.
The CSV is written chunk by chunk to a temporary file (spreadsheet-safe) and renamed at the end;
the same chunks feed the database table in the same pass, so memory does not grow with the input.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialscore.errors import DatabaseError, DataError
from socialscore.storage.csvformat import ID_CANDIDATES, TEXT_CANDIDATES, detect_delimiter
from socialscore.storage.sources import resolve_input

if TYPE_CHECKING:
    from socialscore.modeling.scorer.pipeline import ScoringPipeline
    from socialscore.pipeline.context import StepContext

log = logging.getLogger(__name__)

TEST_SPLIT = "test"


@dataclass
class PredictReport:
    rows: int
    seconds: float


# --- input --------------------------------------------------------------------------------------
def detect_encoding(path: Path) -> str:
    """The encoding extract would read ``path`` with (``ingest.decoding``): a file that no single
    encoding fits is an error naming the guess and the first bad byte, never mojibake."""
    from socialscore.ingest.decoding import file_encoding

    return file_encoding(path)


def pick_column(
    columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str
) -> str | None:
    by_lower = {str(c).strip().lower(): c for c in columns}
    if wanted is not None:
        if wanted in columns:
            return wanted
        if wanted.strip().lower() in by_lower:
            return by_lower[wanted.strip().lower()]
        raise DataError(
            f"no {what} column {wanted!r}; the columns are: {', '.join(map(str, columns))}"
        )
    return next((by_lower[c] for c in candidates if c in by_lower), None)


def read_text_chunks(
    path: Path, text_column: str | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Yield frames (id, text) of at most ``chunk_size`` rows; ids are row numbers when absent."""
    if not path.is_file():
        raise DataError(f"input file {path} does not exist")
    if path.stat().st_size == 0:
        raise DataError(f"input file {path} is empty (no header row)")
    encoding = detect_encoding(path)
    delimiter = _delimiter(path, encoding)
    options = {"encoding": encoding, "dtype": str, "keep_default_na": False, "sep": delimiter}
    try:
        header = pd.read_csv(path, nrows=0, **options).columns
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    column = pick_column(list(header), text_column, TEXT_CANDIDATES, "text")
    if column is None:
        raise DataError(
            f"{path.name} has no text column (looked for {', '.join(TEXT_CANDIDATES)}); "
            f"the columns are: {', '.join(map(str, header))}; pass --text-column"
        )
    id_column = pick_column(list(header), None, ID_CANDIDATES, "id")
    reader = pd.read_csv(path, **options, chunksize=chunk_size)
    start = 0
    try:
        for chunk in reader:
            if not isinstance(chunk.index, pd.RangeIndex):
                # pandas turns the first column into an index when rows hold more fields than the header
                raise pd.errors.ParserError(
                    f"rows near row {start + 1:,} have more fields than the header"
                )
            ids = (
                chunk[id_column]
                if id_column
                else pd.RangeIndex(start, start + len(chunk)).astype(str)
            )
            yield pd.DataFrame(
                {
                    "id": pd.Series(ids).to_numpy(dtype=object),
                    "text": chunk[column].fillna("").to_numpy(dtype=object),
                }
            )
            start += len(chunk)
    except pd.errors.ParserError as exc:
        message = str(exc).splitlines()[0]
        raise DataError(f"{path.name}: malformed CSV after row {start:,}: {message}") from None


def _delimiter(path: Path, encoding: str) -> str:
    """The delimiter of the header line (``csvformat.detect_delimiter``: , TAB ; |)."""
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        return detect_delimiter(handle.readline())


def held_out_chunks(parts: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The test split's (id, text) rows, chunk by chunk as read."""
    for part in parts:
        yield pd.DataFrame(
            {
                "id": part["id"].astype(str).to_numpy(dtype=object),
                "text": part["text"].fillna("").to_numpy(dtype=object),
            }
        )


# --- scoring ------------------------------------------------------------------------------------
def output_columns(labels: Sequence[str]) -> list[str]:
    return [
        "id",
        "toxicity",
        *[f"p_{label}" for label in labels],
        "is_toxic",
        "social_score",
        "risk_level",
        "language",
        "reliable",
        "model_version",
    ]


def score_chunk(pipeline: ScoringPipeline, chunk: pd.DataFrame) -> pd.DataFrame:
    """One output frame per input chunk, rows in input order, none dropped; the values come from
    ``modeling.scorer.scores.output_values``, the rule the API's rows come from too. ``reliable`` is empty
    (NA) for a model without a language profile: it cannot say."""
    from socialscore.modeling.scorer.scores import output_values

    texts = [str(t) for t in chunk["text"]]
    columns = output_columns(pipeline.labels)
    frame: dict[str, Any] = {"id": chunk["id"].astype(str).to_numpy(dtype=object)}
    if not texts:
        frame.update({c: [] for c in columns[1:]})
        return pd.DataFrame(frame, columns=columns).astype(_dtypes(pipeline.labels))
    shown = output_values(pipeline.score(texts))
    frame["toxicity"] = shown["toxicity"]
    for j, label in enumerate(pipeline.labels):
        frame[f"p_{label}"] = shown["probabilities"][:, j]
    frame["is_toxic"] = shown["is_toxic"]
    frame["social_score"] = shown["social_score"]
    frame["risk_level"] = shown["risk_level"]
    known = shown["reliable"] is not None
    frame["language"] = shown["language"] if known else [""] * len(texts)
    frame["reliable"] = np.asarray(shown["reliable"], dtype=bool) if known else pd.array([pd.NA] * len(texts), dtype="boolean")
    frame["model_version"] = pipeline.version
    return pd.DataFrame(frame, columns=columns)


def _dtypes(labels: Sequence[str]) -> dict[str, str]:
    floats = {c: "float64" for c in ("toxicity", *[f"p_{label}" for label in labels])}
    return {
        "id": "object",
        **floats,
        "is_toxic": "bool",
        "social_score": "int64",
        "risk_level": "object",
        "language": "object",
        "reliable": "bool",
        "model_version": "object",
    }


def scored_chunks(
    pipeline: ScoringPipeline,
    chunks: Iterator[pd.DataFrame],
    csv_handle: IO[str] | None = None,
    counter: list[int] | None = None,
) -> Iterator[pd.DataFrame]:
    """Score each chunk, append it to ``csv_handle`` (escaped) and yield it unescaped (for the database).

    Always yields at least one frame, so an empty input still gives a table with the right columns.
    """
    from socialscore.storage.csvsafe import write_csv_safe

    yielded = False
    for chunk in chunks:
        if yielded and len(chunk) == 0:
            continue
        scored = score_chunk(pipeline, chunk)
        if csv_handle is not None:
            write_csv_safe(scored, csv_handle, header=not yielded)
        if counter is not None:
            counter[0] += len(scored)
        yielded = True
        yield scored
    if not yielded:
        empty = score_chunk(pipeline, pd.DataFrame({"id": [], "text": []}))
        if csv_handle is not None:
            write_csv_safe(empty, csv_handle, header=True)
        yield empty


def write_predictions(
    pipeline: ScoringPipeline,
    chunks: Iterator[pd.DataFrame],
    output: Path,
    sink: Any = None,
) -> int:
    """Stream scored chunks into ``output`` (atomic) and, when given, ``sink(chunks)`` in the same pass."""
    from socialscore.storage.atomic import atomic_path

    counter = [0]
    with atomic_path(output, ".csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        stream = scored_chunks(pipeline, chunks, handle, counter)
        if sink is None:
            for _ in stream:
                pass
        else:
            sink(stream)
            if next(stream, None) is not None:  # the CSV and the table must hold the same rows
                raise DatabaseError(
                    "the database stopped reading predictions before the last chunk"
                )
        handle.flush()
    return counter[0]


# --- entry points -------------------------------------------------------------------------------
def predict_file(
    input: Path,
    output: Path,
    load: Callable[[], ScoringPipeline],
    text_column: str | None = None,
    chunk_size: int = 20_000,
    n_jobs: int = -1,
) -> PredictReport:
    """Score any CSV with the pipeline ``load()`` gives; write ``output`` chunk by chunk."""
    started = time.perf_counter()
    if chunk_size < 1:
        raise DataError("chunk size must be at least 1")
    chunks = read_text_chunks(input, text_column, chunk_size)
    first = next(chunks, None)  # read errors (no text column, empty file) before loading the model
    pipeline = load()
    pipeline.featurizer.n_jobs = n_jobs  # processes for big chunks (see FeatureBuilder)
    rows = write_predictions(pipeline, _prepend(first, chunks), output)
    return PredictReport(rows=rows, seconds=time.perf_counter() - started)


def served_loader(models_dir: Path) -> Callable[[], ScoringPipeline]:
    """The production model exported to ``models_dir``, with the API's checks (the registry's sha256
    when the project has a registry, ``bundle.json``'s otherwise: ``serving.load_checked``)."""

    def load() -> ScoringPipeline:
        from socialscore.registry.serving import load_checked

        return load_checked(models_dir)

    return load


def _prepend(first: pd.DataFrame | None, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    if first is not None:
        yield first
    yield from rest


def run(ctx: StepContext) -> None:
    settings = ctx.settings.predict
    pipeline = ctx.read("model")
    pipeline.featurizer.n_jobs = ctx.settings.features.n_jobs
    source = resolve_input(ctx.layout, ctx.settings)
    if source is not None:
        chunks = read_text_chunks(source, settings.text_column, settings.chunk_size)
        origin = source.name
    else:
        if not ctx.exists("comments"):
            ctx.read("comments")  # raises the standard "run step 'load' first" error
        # in chunks: the test split is 200k texts at 1M comments, 1M texts at 5M
        parts = ctx.db.read_table_chunks(
            ctx.location("comments"), ["id", "text"], chunk_rows=settings.chunk_size, where_split=TEST_SPLIT
        )
        chunks = held_out_chunks(parts)
        origin = "the test split"
    table = ctx.location("predictions_table")
    rows = write_predictions(
        pipeline,
        ctx.progress_rows(chunks, None, f"scoring {origin}"),
        Path(ctx.location("predictions")),
        sink=lambda stream: ctx.db.replace_table_from_chunks(table, stream),
    )
    ctx.info(f"scored {rows:,} rows from {origin} with model {pipeline.version}")
    ctx.fact("rows", rows)
    ctx.fact("source", origin)
