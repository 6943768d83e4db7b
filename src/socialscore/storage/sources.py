"""Which input files a step reads: cheap, side-effect free, and without pandas.

The orchestrator calls these on every run (cached or not) to fingerprint extract and predict.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.errors import DataError
from socialscore.ingest.guards import check_input_file
from socialscore.storage.csvformat import detect_schema, read_header

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout


# --- extract ---------------------------------------------------------------------------------
def extract_sources_with_notes(layout: Layout, settings: Settings) -> tuple[list[Path], list[str]]:
    """extract's inputs and notes on fallback files it skipped (see ``extract_sources``)."""
    data = settings.data
    if data.files:
        paths = []
        for name in data.files:
            path = Path(name).expanduser()
            path = path if path.is_absolute() else layout.project_dir / path
            check_input_file(path)  # not found, a directory, a symlink loop...: one precise line
            paths.append(path)
        return paths, []
    notes = []
    for candidate in layout.raw_fallbacks:
        if not candidate.is_file():
            continue
        try:
            columns = read_header(candidate, data.delimiter, encoding=data.encoding)
            schema = detect_schema(
                columns, candidate.name, data.text_column, data.label_columns, data.id_column
            )
        except DataError as exc:
            notes.append(f"skipped {candidate}: {exc}")
            continue
        if not schema.labels:
            notes.append(
                f"skipped {candidate}: it has no label column (unlabelled comments to score?)"
            )
            continue
        return [candidate], notes
    return [], notes


def extract_sources(layout: Layout, settings: Settings) -> list[Path]:
    """The input CSVs: ``data.files``, else the first labelled fallback file, else [] (= generate).

    Cheap and side-effect free: the orchestrator calls it to fingerprint the step.
    """
    return extract_sources_with_notes(layout, settings)[0]


# --- predict ---------------------------------------------------------------------------------------
def resolve_input(layout: Layout, settings: Settings) -> Path | None:
    """The CSV to score: ``predict.input``, else data/raw/prod.csv if present, else None (test split).

    Cheap and without side effects: the orchestrator fingerprints with it.
    """
    configured = settings.predict.input
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else layout.project_dir / path
        if not path.is_file():
            raise DataError(f"predict.input {path} does not exist")
        return path
    return layout.prod_input if layout.prod_input.is_file() else None
