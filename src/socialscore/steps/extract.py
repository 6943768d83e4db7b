"""extract: the configured CSV file(s) — or the fallback chain, or the generated example — as one raw table.

Raw columns: ``id``, ``text``, ``source``, ``source_row`` (1-based record number), ``label_<name>``
(the value as read, not yet validated), ``_error`` (None, or why the record could not be parsed),
``text_key`` (sha256 of the raw text normalised with NFKC: what transform de-duplicates on, so comments
that differ only in their PII stay distinct) and ``pii_scrubbed``.

No raw PII at rest by default: unless ``data.keep_raw`` is true, ``text`` is normalised (NFKC) and
PII-scrubbed before the table is written to ``data/interim/raw_{mode}.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.errors import DataError
from socialscore.storage.csvformat import ERROR_COLUMN, Schema, detect_schema
from socialscore.storage.sources import extract_sources_with_notes

# pandas and the table reader are imported inside the functions that read data, so that importing this
# module stays cheap.
if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from socialscore.config import DataConfig
    from socialscore.pipeline.context import StepContext
    from socialscore.storage.datasets import Table

EXAMPLE_SOURCE = "generated-example"
LABEL_PREFIX = "label_"
KEY_FORM = "NFKC"  # the de-duplication key's normalisation, whatever transform.unicode_form says


CHUNK_ROWS = 50_000  # rows normalised, scrubbed and hashed at a time


@dataclass
class ExtractResult:
    table: pa.Table | None  # the raw table as it is written (Arrow strings); None: already written
    notes: list[str] = field(default_factory=list)
    schemas: dict[str, str] = field(default_factory=dict)  # file name → detected format
    label_display: dict[str, str] = field(default_factory=dict)  # label name → column as written
    pii_replaced: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    unparsed: int = 0  # rows with an ``_error``

    @property
    def frame(self) -> pd.DataFrame:
        """The raw table as the next step reads it back."""
        return self.table.to_pandas()


def protect(frame: pd.DataFrame, keep_raw: bool) -> dict[str, int]:
    """Add ``text_key``; unless ``keep_raw``, replace ``text`` by its normalised, scrubbed form.

    Returns the replacements per PII kind (empty when raw text is kept).
    """
    import hashlib

    from socialscore.text.normalize import normalize_text
    from socialscore.text.pii import scrub_many

    normalised = [normalize_text(t, KEY_FORM) for t in frame["text"]]
    frame["text_key"] = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in normalised]
    if keep_raw:
        frame["pii_scrubbed"] = False
        return {}
    scrubbed, counts = scrub_many(normalised)
    present = frame["text"].notna().to_numpy()
    frame["text"] = [s if p else None for s, p in zip(scrubbed, present)]
    frame["pii_scrubbed"] = True
    return counts


# --- reading -------------------------------------------------------------------------------------
def _raw_from_table(
    frame: pd.DataFrame, schema: Schema, source: str, raw_records: dict[int, str]
) -> pd.DataFrame:
    """Raw rows of ``frame``: a file's table or a slice of it (index = row position in the file)."""
    import pandas as pd

    from socialscore.storage.datasets import davidson_label

    def strings(column: str | None) -> pd.Series:
        if column is None:
            return pd.Series([None] * len(frame), index=frame.index, dtype=object)
        values = frame[column].astype(object)
        return values.where(values.notna(), None)

    out = pd.DataFrame({"id": strings(schema.id_column), "text": strings(schema.text_column)})
    out.loc[out["id"].astype(str).str.strip() == "", "id"] = None
    positions = [p for p in raw_records if p in out.index]
    if positions:  # an unparseable record keeps its raw content in `text` for the rejected file
        out.loc[positions, "text"] = [raw_records[p] for p in positions]
    out["source"] = source
    out["source_row"] = frame.index.to_numpy(dtype="int64") + 1
    for label, column in schema.labels.items():
        values = strings(column)
        out[LABEL_PREFIX + label] = davidson_label(values, label) if schema.davidson else values
    out[ERROR_COLUMN] = strings(ERROR_COLUMN)
    return out.reset_index(drop=True)


def _protected_chunks(
    table: Table, schema: Schema, columns: list[str], keep_raw: bool, counts: dict[str, int]
) -> Iterator[pa.Table]:
    """The raw rows of one file as Arrow tables of ``CHUNK_ROWS`` rows, protected; PII counts added
    to ``counts``."""
    for start in range(0, len(table.frame), CHUNK_ROWS):
        part = table.frame.iloc[start : start + CHUNK_ROWS]
        raw = _raw_from_table(part, schema, table.path.name, table.raw_records)[columns]
        for kind, count in protect(raw, keep_raw).items():
            counts[kind] = counts.get(kind, 0) + count
        yield _to_arrow(raw)


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Without pandas' schema metadata: it would describe the first chunk's dtypes only."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def _example_frame(data_cfg: DataConfig) -> pd.DataFrame:
    import pandas as pd

    from socialscore.storage.synthetic import generate_example

    example = generate_example(data_cfg.example_rows, data_cfg.example_seed)
    out = pd.DataFrame(
        {"id": example["id"].astype(object), "text": example["comment_text"].astype(object)}
    )
    out["source"] = EXAMPLE_SOURCE
    out["source_row"] = range(1, len(out) + 1)
    for label in example.columns[2:]:
        out[LABEL_PREFIX + label] = example[label].astype(str).astype(object)
    out[ERROR_COLUMN] = None
    return out


def extract(
    paths: list[Path], data_cfg: DataConfig, write: Callable[[Iterator[pa.Table]], None] | None = None
) -> ExtractResult:
    """Read ``paths`` (or generate the example when empty) into the raw table.

    With ``write``, the files' raw rows are given to it chunk by chunk (all with the schema the
    whole table would have) and the result's ``table`` is None."""
    import pyarrow as pa

    from socialscore.storage.datasets import read_input

    if not paths:
        frame = _example_frame(data_cfg)
        counts = protect(frame, data_cfg.keep_raw)
        return _whole(
            _to_arrow(frame), [f"generated {len(frame)} synthetic example comments"], {EXAMPLE_SOURCE: "example"}, {}, counts
        )
    if write is not None:
        streamed = _extract_streaming(paths, data_cfg, write)
        if streamed is not None:
            return streamed
    tables = [read_input(path, data_cfg) for path in paths]
    plan = _plan([(t.path, t.columns) for t in tables], data_cfg)
    notes = plan.notes([t.notes for t in tables], [len(t.frame) for t in tables])
    pairs = list(zip(tables, plan.schemas))
    counts: dict[str, int] = {}
    if write is None:
        chunks = list(_file_chunks(pairs, plan.columns, data_cfg.keep_raw, counts))
        raw = pa.concat_tables(chunks, promote_options="permissive")  # a column of None in one chunk
        return _whole(raw, notes, plan.formats, plan.shown, counts)
    target = _raw_schema(pairs, plan.columns, data_cfg.keep_raw)
    tally = [0, 0]

    def parts() -> Iterator[pa.Table]:
        for chunk in _file_chunks(pairs, plan.columns, data_cfg.keep_raw, counts):
            tally[0] += chunk.num_rows
            tally[1] += chunk.num_rows - chunk.column(ERROR_COLUMN).null_count
            yield chunk.cast(target)

    write(parts())
    return ExtractResult(None, notes, plan.formats, plan.shown, counts, tally[0], tally[1])


@dataclass
class _Plan:
    """What the input files' headers decide: each file's schema and the raw table's columns."""

    schemas: list[Schema]
    columns: list[str]
    names: list[str]
    formats: dict[str, str]
    shown: dict[str, str]
    dropped: set[str]

    def notes(self, read_notes: list[list[str]], rows: list[int]) -> list[str]:
        """The notes of reading the files (``read_notes``, ``rows`` per file) in file order."""
        notes: list[str] = []
        for name, schema, before, count in zip(self.names, self.schemas, read_notes, rows):
            notes += before
            notes.append(
                f"{name}: {count} rows, format {schema.kind}, text {schema.text_column!r}, "
                f"id {schema.id_column!r}, labels {', '.join(schema.labels)}"
            )
            notes += [
                f"{name}: label column {column!r} is stored as label_{label}"
                for label, column in schema.labels.items()
                if column != label and not schema.davidson
            ]
        if self.dropped:
            notes.append(f"labels not in every file were dropped: {', '.join(sorted(self.dropped))}")
        return notes


def _plan(files: list[tuple[Path, list[str]]], data_cfg: DataConfig) -> _Plan:
    """Each file's schema from its columns; DataError when a file has no label or none is shared."""
    schemas, formats, display = [], {}, {}
    for path, file_columns in files:
        schema = detect_schema(
            file_columns, path.name, data_cfg.text_column, data_cfg.label_columns, data_cfg.id_column
        )
        if not schema.labels:
            raise DataError(
                f"{path.name}: no label column found; the columns are {', '.join(map(repr, file_columns))};"
                " set --label-column"
            )
        formats[path.name] = schema.kind
        for label, column in schema.labels.items():
            display.setdefault(label, column if not schema.davidson else label)
        schemas.append(schema)
    label_sets = [{LABEL_PREFIX + label for label in schema.labels} for schema in schemas]
    shared = set.intersection(*label_sets)
    if not shared:
        raise DataError(
            "the input files have no label column in common: "
            + "; ".join(
                f"{p.name}: {', '.join(sorted(s)) or 'none'}" for (p, _), s in zip(files, label_sets)
            )
        )
    ordered = [LABEL_PREFIX + label for label in schemas[0].labels if LABEL_PREFIX + label in shared]
    columns = ["id", "text", "source", "source_row", *ordered, ERROR_COLUMN]
    shown = {k: v for k, v in display.items() if LABEL_PREFIX + k in shared}
    names = [p.name for p, _ in files]
    return _Plan(schemas, columns, names, formats, shown, set.union(*label_sets) - shared)


def _whole(raw: pa.Table, notes: list[str], schemas: dict, shown: dict, counts: dict) -> ExtractResult:
    unparsed = raw.num_rows - raw.column(ERROR_COLUMN).null_count
    return ExtractResult(raw, notes, schemas, shown, counts, raw.num_rows, unparsed)


def _file_chunks(
    tables: list[tuple[Table, Schema]], columns: list[str], keep_raw: bool, counts: dict[str, int]
) -> Iterator[pa.Table]:
    while tables:  # each file's table is dropped once its rows are protected
        table, schema = tables.pop(0)
        yield from _protected_chunks(table, schema, columns, keep_raw, counts)
        del table


def _raw_schema(tables: list[tuple[Table, Schema]], columns: list[str], keep_raw: bool) -> pa.Schema:
    """The schema that concatenating the raw chunks gives (a pass over the rows without protecting)."""
    filled = set(ALWAYS_FILLED)
    for table, schema in tables:
        for start in range(0, len(table.frame), CHUNK_ROWS):
            part = _raw_from_table(table.frame.iloc[start : start + CHUNK_ROWS], schema, table.path.name, table.raw_records)
            filled |= {c for c in columns if c not in filled and part[c].notna().any()}
    table, schema = tables[0]
    return _schema_of(list(table.frame.columns), schema, table.path.name, columns, keep_raw, filled)


ALWAYS_FILLED = frozenset({"source", "source_row", "text_key", "pii_scrubbed"})


def _schema_of(
    file_columns: list[str], schema: Schema, name: str, columns: list[str], keep_raw: bool, filled: set[str]
) -> pa.Schema:
    """Each column's type as a row with every field filled makes it, or null where the column is
    None in every row (not in ``filled``)."""
    import pandas as pd
    import pyarrow as pa

    probe = pd.DataFrame({column: ["x"] for column in dict.fromkeys([*file_columns, ERROR_COLUMN])})
    probe = _raw_from_table(probe, schema, name, {})[columns]
    protect(probe, keep_raw)
    full = _to_arrow(probe).schema
    return pa.schema([(f.name, f.type if f.name in filled else pa.null()) for f in full])


class _Refilled(Exception):
    """The streamed rows left other columns None in every row than the schema written assumed."""

    def __init__(self, filled: set[str]) -> None:
        self.filled = filled


def _extract_streaming(
    paths: list[Path], data_cfg: DataConfig, write: Callable[[Iterator[pa.Table]], None]
) -> ExtractResult | None:
    """The files read chunk by chunk (storage.streaming) and given to ``write``; None when a file
    needs the whole-file reader (found before or while writing: the writer then discards its file)."""
    from socialscore.storage.streaming import NotStreamable, stream_csv

    opened = [stream_csv(path, data_cfg) for path in paths]
    files = [file for file in opened if file is not None]
    if len(files) < len(opened):
        return None
    try:
        plan = _plan([(f.path, f.columns) for f in files], data_cfg)
    except DataError:
        return None  # the whole-file reader raises it, or an error of its own reading that comes first
    # Usually every column but `_error` has a value somewhere (no id column: `id` has none); a file
    # where that guess is wrong is written again with the schema its rows gave.
    filled = set(ALWAYS_FILLED) | set(plan.columns) - {ERROR_COLUMN}
    if all(schema.id_column is None for schema in plan.schemas):
        filled.discard("id")
    for _ in range(2):
        counts: dict[str, int] = {}
        target = _schema_of(files[0].columns, plan.schemas[0], files[0].path.name, plan.columns, data_cfg.keep_raw, filled)
        seen = set(ALWAYS_FILLED)

        def parts() -> Iterator[pa.Table]:
            for file, schema in zip(files, plan.schemas):
                for frame in file.chunks(CHUNK_ROWS):
                    raw = _raw_from_table(frame, schema, file.path.name, {})[plan.columns]
                    seen.update(c for c in plan.columns if c not in seen and raw[c].notna().any())
                    for kind, count in protect(raw, data_cfg.keep_raw).items():
                        counts[kind] = counts.get(kind, 0) + count
                    yield _to_arrow(raw).cast(target)
            if seen != filled:
                raise _Refilled(seen)

        try:
            write(parts())
        except NotStreamable:
            return None
        except _Refilled as exc:
            filled = exc.filled
            continue
        rows = [f.rows for f in files]
        notes = plan.notes([f.notes for f in files], rows)
        return ExtractResult(None, notes, plan.formats, plan.shown, counts, sum(rows), 0)
    raise AssertionError("the second pass wrote the schema the first one found")


def run(ctx: StepContext) -> None:
    paths, resolve_notes = extract_sources_with_notes(ctx.layout, ctx.settings)
    for note in resolve_notes:
        ctx.warn(note)
    if not paths:
        ctx.warn(
            "NO INPUT DATA: none of data/raw/cleaned_training_sample.csv, prod.csv, train.csv exists, so a "
            f"SYNTHETIC example dataset ({ctx.settings.data.example_rows} rows) is used. Point at real data "
            "with --data my.csv (and --text-column/--label-column) or data.files in socialscore.yaml."
        )
    result = extract(paths, ctx.settings.data, lambda parts: write_artifact(ctx, "raw", parts))
    for note in result.notes:
        ctx.info(note)
    if result.table is not None:  # else written chunk by chunk
        write_artifact(ctx, "raw", result.table)
    if ctx.settings.data.keep_raw:
        ctx.warn(f"data.keep_raw is true: {ctx.location('raw')} holds the raw, unscrubbed comments")
    else:
        ctx.fact("pii_replaced", sum(result.pii_replaced.values()))
    if result.label_display:
        ctx.fact("label_columns", result.label_display)
    ctx.fact("rows", result.rows)
    ctx.fact("files", [p.name for p in paths] or [EXAMPLE_SOURCE])
    ctx.fact("formats", result.schemas)
    ctx.fact("unparsed_records", result.unparsed)
    encoding = [n for n in result.notes if "read as" in n or "UTF" in n or "NUL" in n]
    if encoding:
        ctx.fact("encoding_notes", encoding)


def write_artifact(ctx: StepContext, key: str, value: object) -> None:
    """``ctx.write`` with a full disk or a permission problem as one DataError line (the atomic
    writer removes its temporary file)."""
    from socialscore.ingest.guards import describe_os_error

    try:
        ctx.write(key, value)
    except OSError as exc:
        raise DataError(describe_os_error(exc, ctx.location(key), "write")) from None
