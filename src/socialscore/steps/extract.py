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
    tables, notes, schemas, display = [], [], {}, {}
    for path in paths:
        table = read_input(path, data_cfg)
        schema = detect_schema(
            table.columns,
            path.name,
            data_cfg.text_column,
            data_cfg.label_columns,
            data_cfg.id_column,
        )
        if not schema.labels:
            raise DataError(
                f"{path.name}: no label column found; the columns are {', '.join(map(repr, table.columns))};"
                " set --label-column"
            )
        notes += table.notes
        notes.append(
            f"{path.name}: {len(table.frame)} rows, format {schema.kind}, text {schema.text_column!r}, "
            f"id {schema.id_column!r}, labels {', '.join(schema.labels)}"
        )
        schemas[path.name] = schema.kind
        for label, column in schema.labels.items():
            display.setdefault(label, column if not schema.davidson else label)
            if column != label and not schema.davidson:
                notes.append(f"{path.name}: label column {column!r} is stored as label_{label}")
        tables.append((table, schema))
    label_sets = [{LABEL_PREFIX + label for label in schema.labels} for _, schema in tables]
    shared = set.intersection(*label_sets)
    if not shared:
        raise DataError(
            "the input files have no label column in common: "
            + "; ".join(
                f"{p.name}: {', '.join(sorted(s)) or 'none'}" for p, s in zip(paths, label_sets)
            )
        )
    dropped = set.union(*label_sets) - shared
    if dropped:
        notes.append(f"labels not in every file were dropped: {', '.join(sorted(dropped))}")
    ordered = [LABEL_PREFIX + label for label in tables[0][1].labels if LABEL_PREFIX + label in shared]
    columns = ["id", "text", "source", "source_row", *ordered, ERROR_COLUMN]
    counts: dict[str, int] = {}
    shown = {k: v for k, v in display.items() if LABEL_PREFIX + k in shared}
    if write is None:
        chunks = list(_file_chunks(tables, columns, data_cfg.keep_raw, counts))
        raw = pa.concat_tables(chunks, promote_options="permissive")  # a column of None in one chunk
        return _whole(raw, notes, schemas, shown, counts)
    target = _raw_schema(tables, columns, data_cfg.keep_raw)
    tally = [0, 0]

    def parts() -> Iterator[pa.Table]:
        for chunk in _file_chunks(tables, columns, data_cfg.keep_raw, counts):
            tally[0] += chunk.num_rows
            tally[1] += chunk.num_rows - chunk.column(ERROR_COLUMN).null_count
            yield chunk.cast(target)

    write(parts())
    return ExtractResult(None, notes, schemas, shown, counts, tally[0], tally[1])


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
    """The schema that concatenating the raw chunks gives: each column's type as a row with every
    field filled makes it, or null where the column is None in every row (a pass without protecting)."""
    import pyarrow as pa

    table, schema = tables[0]
    probe = table.frame.iloc[:1].copy()
    for column in probe.columns:
        probe[column] = "x"
    probe = _raw_from_table(probe, schema, table.path.name, {})[columns]
    protect(probe, keep_raw)
    filled = {"source", "source_row", "text_key", "pii_scrubbed"}
    for table, schema in tables:
        for start in range(0, len(table.frame), CHUNK_ROWS):
            part = _raw_from_table(table.frame.iloc[start : start + CHUNK_ROWS], schema, table.path.name, table.raw_records)
            filled |= {c for c in columns if c not in filled and part[c].notna().any()}
    full = _to_arrow(probe).schema
    return pa.schema([(f.name, f.type if f.name in filled else pa.null()) for f in full])


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
