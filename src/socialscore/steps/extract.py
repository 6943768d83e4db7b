"""extract: the configured CSV file(s) — or the fallback chain, or the generated example — as one raw table.

Raw columns: ``id``, ``text``, ``source``, ``source_row`` (1-based record number), ``label_<name>``
(the value as read, not yet validated) and ``_error`` (None, or why the record could not be parsed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.csvformat import ERROR_COLUMN, Schema, detect_schema
from socialscore.errors import DataError
from socialscore.steps.sources import extract_sources_with_notes

# pandas and the table reader are imported inside the functions that read data, so that importing this
# module stays cheap.
if TYPE_CHECKING:
    import pandas as pd

    from socialscore.config import DataConfig
    from socialscore.pipeline.context import StepContext

EXAMPLE_SOURCE = "generated-example"
LABEL_PREFIX = "label_"


@dataclass
class ExtractResult:
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    schemas: dict[str, str] = field(default_factory=dict)  # file name → detected format


# --- reading -------------------------------------------------------------------------------------
def _raw_from_table(
    frame: pd.DataFrame, schema: Schema, source: str, raw_records: dict[int, str]
) -> pd.DataFrame:
    import pandas as pd

    from socialscore.datasets import davidson_label

    def strings(column: str | None) -> pd.Series:
        if column is None:
            return pd.Series([None] * len(frame), dtype=object)
        values = frame[column].astype(object).reset_index(drop=True)
        return values.where(values.notna(), None)

    out = pd.DataFrame({"id": strings(schema.id_column), "text": strings(schema.text_column)})
    out.loc[out["id"].astype(str).str.strip() == "", "id"] = None
    if raw_records:  # an unparseable record keeps its raw content in `text` for the rejected file
        positions = list(raw_records)
        out.loc[positions, "text"] = [raw_records[p] for p in positions]
    out["source"] = source
    out["source_row"] = pd.RangeIndex(1, len(frame) + 1).to_numpy(dtype="int64")
    for label, column in schema.labels.items():
        values = strings(column)
        out[LABEL_PREFIX + label] = davidson_label(values, label) if schema.davidson else values
    out[ERROR_COLUMN] = strings(ERROR_COLUMN)
    return out


def _example_frame(data_cfg: DataConfig) -> pd.DataFrame:
    import pandas as pd

    from socialscore.datasets import generate_example

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


def extract(paths: list[Path], data_cfg: DataConfig) -> ExtractResult:
    """Read ``paths`` (or generate the example when empty) into the raw table."""
    import pandas as pd

    from socialscore.datasets import read_table

    if not paths:
        frame = _example_frame(data_cfg)
        return ExtractResult(
            frame,
            [f"generated {len(frame)} synthetic example comments"],
            {EXAMPLE_SOURCE: "example"},
        )
    parts, notes, schemas = [], [], {}
    for path in paths:
        table = read_table(path, data_cfg.delimiter)
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
        parts.append(_raw_from_table(table.frame, schema, path.name, table.raw_records))
    label_sets = [{c for c in p.columns if c.startswith(LABEL_PREFIX)} for p in parts]
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
    ordered = [c for c in parts[0].columns if c in shared]
    columns = ["id", "text", "source", "source_row", *ordered, ERROR_COLUMN]
    frame = pd.concat([p[columns] for p in parts], ignore_index=True)
    return ExtractResult(frame, notes, schemas)


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
    result = extract(paths, ctx.settings.data)
    for note in result.notes:
        ctx.info(note)
    ctx.write("raw", result.frame)
    errors = int(result.frame[ERROR_COLUMN].notna().sum())
    ctx.fact("rows", len(result.frame))
    ctx.fact("files", [p.name for p in paths] or [EXAMPLE_SOURCE])
    ctx.fact("formats", result.schemas)
    ctx.fact("unparsed_records", errors)
    encoding = [n for n in result.notes if "UTF" in n or "NUL" in n or "cp1252" in n]
    if encoding:
        ctx.fact("encoding_notes", encoding)
