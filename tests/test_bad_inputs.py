"""The broken-input corpus (tests/data/bad/expected.yaml): each input gives its expected outcome — a
clear one-line error or rows kept/rejected/merged — and no row is ever lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "bad"


def _load_corpus():
    spec = importlib.util.spec_from_file_location("bad_corpus", CORPUS_DIR / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_corpus"] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus()
NAMES = list(yaml.safe_load((CORPUS_DIR / "expected.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("bad_inputs")
    return {case.name: case for case in corpus.load_cases(workdir)}, workdir


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_bad_input(cases, name: str) -> None:
    by_name, workdir = cases
    outcome = corpus.run_case(by_name[name], workdir)
    assert corpus.problems(outcome) == []
    if outcome.error is None:
        r = outcome.report
        assert r["rows_in"] == r["rows_kept"] + r["rows_rejected"] + r["duplicates_merged"]
        assert outcome.lost == 0


def test_the_corpus_covers_what_issue_7_lists() -> None:
    wanted = [
        "truncated",
        "delimiter",
        "bom",
        "mixed_encoding",
        "nul_bytes",
        "multiline_quoted",
        "wide_row",
        "formulas",
        "labels_out_of_range",
        "duplicate_headers",
    ]
    for word in wanted:
        assert any(word in name for name in NAMES), word
    assert len(NAMES) >= 30
    committed = {p.name for p in CORPUS_DIR.glob("*.csv")}
    manifest = yaml.safe_load((CORPUS_DIR / "expected.yaml").read_text(encoding="utf-8"))
    assert committed == {
        n for n, spec in manifest.items() if "generate" not in spec
    }  # no stray files


def test_the_checker_notices_lost_rows_and_wrong_errors(tmp_path: Path) -> None:
    case = corpus.Case("x.csv", tmp_path / "x.csv", {"outcome": "rows", "records": 5, "kept": 3})
    lost = corpus.Outcome(
        case,
        report={
            "rows_in": 4,
            "rows_kept": 3,
            "rows_rejected": 0,
            "duplicates_merged": 0,
            "label_conflicts": 0,
        },
    )
    assert lost.lost == 2
    assert any("lost" in p for p in corpus.problems(lost))
    error_case = corpus.Case("y.csv", tmp_path / "y.csv", {"outcome": "error", "error": "is empty"})
    assert corpus.problems(corpus.Outcome(error_case, error="something else"))
    assert corpus.problems(corpus.Outcome(error_case, error="is empty\nwith a second line"))


@pytest.mark.parametrize("kind", ["symlink_loop", "directory", "mixed_encoding"])
def test_the_cli_prints_one_line_and_no_traceback(project_dir: Path, kind: str) -> None:
    """Issue 13: a symlink loop as --data was a traceback, a directory "not found"."""
    from typer.testing import CliRunner

    from socialscore.terminal.app import app

    path = project_dir / "in.csv"
    if kind == "symlink_loop":
        path.symlink_to(path.name)
        expected = "is a symlink loop"
    elif kind == "directory":
        path.mkdir()
        expected = "is a directory, not a CSV file"
    else:
        path.write_bytes((CORPUS_DIR / "mixed_encoding.csv").read_bytes())
        expected = "cannot be decoded losslessly"
    args = ["run", "--steps", "extract", "--data", str(path), "--project-dir", str(project_dir)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.output
    if kind == "mixed_encoding":  # --encoding decodes it anyway
        forced = CliRunner().invoke(app, [*args, "--encoding", "cp1252"], catch_exceptions=False)
        assert forced.exit_code == 0, forced.output
