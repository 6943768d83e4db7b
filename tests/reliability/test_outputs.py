"""Nothing the user owns is overwritten by accident (issue 22, item 1).

An output that is an input (the same name, a symlink or a hard link to it) is refused before any
work, and the input is left byte for byte; ``--project-dir`` decides which served model scores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from reliability.test_faults import cli, one_line_error

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from tiny_bundle import build_tiny_bundle  # noqa: E402

LINKS = ["same name", "symlink", "hard link", "relative and absolute"]


def _output_for(source: Path, how: str) -> Path:
    if how == "same name":
        return source
    if how == "relative and absolute":
        return Path(os.path.relpath(source))
    link = source.with_name(f"link-{how.replace(' ', '-')}.csv")
    if how == "symlink":
        link.symlink_to(source)
    else:
        os.link(source, link)
    return link


@pytest.fixture
def scored_input(project_dir: Path) -> Path:
    source = project_dir / "comments.csv"
    pd.DataFrame({"id": range(65), "comment_text": [f"comment number {i}" for i in range(65)],
                  "toxic": [i % 2 for i in range(65)]}).to_csv(source, index=False)
    return source


@pytest.mark.parametrize("how", LINKS)
def test_predict_never_writes_over_its_input(how: str, scored_input: Path, project_dir: Path, capsys) -> None:
    build_tiny_bundle(project_dir / "models")
    before = scored_input.read_bytes()
    output = _output_for(scored_input, how)
    code, err = cli(capsys, "predict", "-i", str(scored_input), "-o", str(output), "--project-dir", str(project_dir))
    one_line_error(code, err, "would destroy the input")
    assert scored_input.read_bytes() == before


@pytest.mark.parametrize("how", LINKS)
def test_sample_never_writes_over_its_source(how: str, scored_input: Path, capsys) -> None:
    before = scored_input.read_bytes()
    output = _output_for(scored_input, how)
    code, err = cli(capsys, "sample", str(scored_input), str(output), "--rows", "10")
    one_line_error(code, err, "would destroy the input")
    assert scored_input.read_bytes() == before


def test_project_dir_decides_the_served_model(tmp_path: Path, capsys, monkeypatch) -> None:
    """``predict -C P`` scores with P's model even where the current directory has a models/ of its own."""
    here, there = tmp_path / "here", tmp_path / "there"
    build_tiny_bundle(here / "models", version="here-model")
    build_tiny_bundle(there / "models", version="there-model", threshold=0.9)
    (tmp_path / "in.csv").write_text("text\nyou are an idiot\n")
    monkeypatch.chdir(here)
    code, err = cli(capsys, "predict", "-i", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "-C", str(there))
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "out.csv")["model_version"]) == {"there-model"}  # was here-model
