"""Every CSV the pipeline writes is safe to open in a spreadsheet: formula-like cells are escaped."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from reliability.helpers import FORMULAS, MODE, run_cli

pytestmark = pytest.mark.slow

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def assert_spreadsheet_safe(path: Path) -> list[list[str]]:
    """No cell a spreadsheet would run as a formula (a plain negative number is data, not a formula)."""
    header, rows = cells(path)
    for cell in header:
        assert not cell.startswith(DANGEROUS), f"{path.name}: header {cell!r}"
    for line, row in enumerate(rows, start=2):
        for column, cell in zip(header, row, strict=True):
            if cell.startswith(DANGEROUS) and not NUMBER.match(cell):
                raise AssertionError(f"{path.name} line {line} column {column}: unescaped {cell!r}")
    return rows


def column(path: Path, name: str) -> list[str]:
    header, rows = cells(path)
    return [row[header.index(name)] for row in rows]


def test_rejected_csv_escapes_ids_and_texts(crafted_run) -> None:
    path = crafted_run.project / "data" / "interim" / f"rejected_{MODE}.csv"
    rows = assert_spreadsheet_safe(path)
    assert rows, "the crafted rows with a label out of range must be rejected"
    ids = column(path, "id")
    for formula in FORMULAS:
        assert f"'{formula}-rejected" in ids
    texts = column(path, "text")
    # "@SUM(...)" loses its "@SUM" to the PII scrubber (a user mention), so it is no formula any more
    survivors = [f for f in FORMULAS if not f.startswith("@")]
    assert sum(t.startswith("'") for t in texts) == len(survivors)


def test_predictions_csv_escapes_ids(crafted_run) -> None:
    path = crafted_run.project / "reports" / f"predictions_{MODE}.csv"
    assert_spreadsheet_safe(path)
    ids = column(path, "id")
    for formula in FORMULAS:  # data/raw/prod.csv was scored: every crafted id is there, escaped
        assert f"'{formula}" in ids


def test_predict_cli_output_is_escaped(crafted_run, tmp_path: Path) -> None:
    source = crafted_run.project / "data" / "raw" / "prod.csv"
    output = tmp_path / "scored.csv"
    models = crafted_run.project / "models"
    result = run_cli(
        "predict", "--input", str(source), "--output", str(output), "--models-dir", str(models)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_spreadsheet_safe(output)
    header, _rows = cells(output)
    ids = column(output, "id")
    for formula in FORMULAS:
        assert f"'{formula}" in ids
    for name in header:  # if the text is echoed back, it is escaped too
        if name in ("text", "comment_text"):
            assert all(v.startswith("'") for v in column(output, name)[: len(FORMULAS)])


# Writers of pipeline *inputs*, deliberately verbatim (escaping would change the comments they feed
# back in): `socialscore generate` and `socialscore sample` (commit 62e6d08).
VERBATIM_INPUT_WRITERS = {"terminal/app.py", "storage/sampling.py"}


def test_every_csv_writer_goes_through_csvsafe() -> None:
    """A static check: outputs are written only through socialscore.storage.csvsafe."""
    src = Path(__file__).resolve().parents[2] / "src" / "socialscore"
    offenders = []
    for path in src.rglob("*.py"):
        if path.name == "csvsafe.py" or str(path.relative_to(src)) in VERBATIM_INPUT_WRITERS:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", text):
            offenders.append(str(path.relative_to(src)))
    assert offenders == [], f"CSV written without socialscore.storage.csvsafe in: {offenders}"
