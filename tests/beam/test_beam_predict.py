"""Beam batch prediction equals the local engine, row for row and byte for byte (FnApiRunner)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

beam = pytest.importorskip("apache_beam")  # in the dev group, so CI has it; SOCIALSCORE_NO_SKIP fails a skip

from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline

from socialscore.beam.predict import build_predict, local_runner, predict_file_beam
from socialscore.steps.predict import predict_file, served_loader
from socialscore.storage.synthetic import generate_example

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from tiny_bundle import build_tiny_bundle


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def comments(tmp_path_factory) -> Path:
    frame = generate_example(700, seed=9)[["id", "comment_text"]]
    frame.loc[3, "comment_text"] = '=cmd|" /C calc"!A0, with "quotes"\nand a newline'
    frame.loc[4, "comment_text"] = ""
    path = tmp_path_factory.mktemp("data") / "comments.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_test_pipeline_output_equals_the_local_engine(tmp_path: Path, models_dir: Path, comments: Path) -> None:
    local = tmp_path / "local.csv"
    predict_file(comments, local, served_loader(models_dir), chunk_size=64, n_jobs=1)
    out = tmp_path / "beam.csv"
    with BeamTestPipeline(runner=local_runner()) as pipeline:
        build_predict(pipeline, str(comments), str(out), str(models_dir), chunk_size=64)
    assert out.read_bytes() == local.read_bytes()
    scored = pd.read_csv(out, dtype={"id": str})
    assert len(scored) == 700 and scored["id"].tolist() == pd.read_csv(comments, dtype={"id": str})["id"].tolist()
    assert not (tmp_path / "beam.csv.parts").exists()


@pytest.mark.slow
def test_cli_engine_beam_equals_engine_local(tmp_path: Path, models_dir: Path, comments: Path) -> None:
    from typer.testing import CliRunner

    from socialscore.terminal.app import app

    runner = CliRunner()
    for engine in ("local", "beam"):
        result = runner.invoke(
            app, ["predict", "-i", str(comments), "-o", str(tmp_path / f"{engine}.csv"),
                  "--models-dir", str(models_dir), "--engine", engine, "--chunk-size", "100"],
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "beam.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_header_only_input_and_missing_bundle(tmp_path: Path, models_dir: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("id,text\n")
    predict_file(empty, tmp_path / "local.csv", served_loader(models_dir), n_jobs=1)
    predict_file_beam(str(empty), str(tmp_path / "beam.csv"), str(models_dir))
    assert (tmp_path / "beam.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    from socialscore.errors import ModelError

    with pytest.raises(ModelError):
        predict_file_beam(str(empty), str(tmp_path / "x.csv"), str(tmp_path / "no-models"))
