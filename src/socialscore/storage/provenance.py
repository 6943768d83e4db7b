"""What a model version was trained on: the input files (sha256, size), the rows used, and whether the
data was generated (the synthetic example dataset), for the registry record, the model card and the
report's first screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialscore.storage.digest import sha256_file

GENERATED_NOTE = "GENERATED synthetic example data (socialscore's own, not real comments): its metrics say nothing about real data"


def _shown(path: Path, project_dir: Path) -> str:
    """The path relative to the project directory when inside it, else as an absolute path."""
    try:
        return str(path.resolve().relative_to(project_dir.resolve()))
    except ValueError:
        return str(path.resolve())


def data_provenance(
    paths: list[Path], project_dir: Path, rows_used: int, train_rows: int, test_rows: int,
    example_rows: int | None = None, example_seed: int | None = None,
) -> dict[str, Any]:
    """The provenance record; ``paths`` empty means extract generated the example dataset."""
    generated = not paths
    record: dict[str, Any] = {
        "generated": generated,
        "files": [
            {"path": _shown(p, project_dir), "sha256": sha256_file(p), "bytes": p.stat().st_size} for p in paths
        ],
        "rows_used": int(rows_used),
        "train_rows": int(train_rows),
        "test_rows": int(test_rows),
    }
    if generated:
        record["generator"] = {"rows": example_rows, "seed": example_seed, "note": GENERATED_NOTE}
    return record


def describe(provenance: dict[str, Any] | None) -> str:
    """One line for people: what the version was trained on."""
    if not provenance:
        return "training data: not recorded (a version trained before provenance was kept)"
    rows = f"{provenance['rows_used']:,} rows used ({provenance['train_rows']:,} train, {provenance['test_rows']:,} test)"
    if provenance.get("generated"):
        return f"training data: {GENERATED_NOTE}; {rows}"
    files = ", ".join(f"{f['path']} (sha256 {f['sha256'][:12]}…)" for f in provenance["files"])
    return f"training data: {files}; {rows}"
