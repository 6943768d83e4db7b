"""``socialscore run --engine beam`` writes the same transform and features artifacts as the local engine."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

beam = pytest.importorskip("apache_beam")  # in the dev group, so CI has it; SOCIALSCORE_NO_SKIP fails a skip

from typer.testing import CliRunner

from socialscore.layout import Layout
from socialscore.modeling.training.out_of_core_blocks import NpzBlocks, gather
from socialscore.terminal.app import app

STEPS = ["--steps", "extract", "--steps", "transform", "--steps", "load", "--steps", "features"]
SETS = ["--set", "data.example_rows=800", "--set", "features.vectorizer=hashing", "--set", "features.hash_bits=14"]


def run(project: Path, *extra: str):
    project.mkdir(exist_ok=True)
    return CliRunner().invoke(
        app, ["run", "--mode", "dev", *STEPS, *SETS, *extra, "--project-dir", str(project)], catch_exceptions=False
    )


@pytest.mark.slow
def test_run_engine_beam_equals_engine_local(tmp_path: Path) -> None:
    local, beamed = tmp_path / "local", tmp_path / "beam"
    assert run(local).exit_code == 0
    result = run(beamed, "--engine", "beam", "--beam-arg=--direct_num_workers=1")
    assert result.exit_code == 0, result.output
    log = (beamed / "logs" / "pipeline_dev.log").read_text(encoding="utf-8")
    for step in ("transform", "features"):
        assert re.search(rf"step {step} running \(.*\) on the beam engine", log), step
        assert re.search(rf"step {step} done .*'engine': 'beam'", log), step
    assert re.search(r"step load running \(.*\) on the local engine", log)
    a, b = Layout(local, "dev"), Layout(beamed, "dev")
    pd.testing.assert_frame_equal(pd.read_parquet(b.interim("clean")), pd.read_parquet(a.interim("clean")))
    assert b.interim("rejected", "csv").read_bytes() == a.interim("rejected", "csv").read_bytes()
    x_local = gather(NpzBlocks(a.processed_dir / "features_dev"))
    x_beam = gather(NpzBlocks(b.processed_dir / "features_dev"))
    assert x_beam.shape == x_local.shape and (x_beam != x_local).nnz == 0
    np.testing.assert_array_equal(np.load(b.processed("labels", "npy")), np.load(a.processed("labels", "npy")))
    arrays = "vectorizer_dev/arrays.npz"
    with np.load(a.processed_dir / arrays) as want, np.load(b.processed_dir / arrays) as got:
        assert sorted(got.files) == sorted(want.files)
        for name in want.files:
            np.testing.assert_array_equal(got[name], want[name])


@pytest.mark.slow
def test_run_engine_beam_refuses_the_vocabulary_featurizer(tmp_path: Path) -> None:
    result = run(tmp_path / "p", "--engine", "beam", "--set", "features.vectorizer=vocabulary")
    assert result.exit_code != 0
    assert "features.vectorizer: hashing" in result.output


def test_unknown_engine(tmp_path: Path) -> None:
    result = run(tmp_path / "p", "--engine", "spark")
    assert result.exit_code != 0 and "unknown engine 'spark'" in result.output
