"""Beam transform equals the local transform: same clean rows, rejected rows and report (FnApiRunner)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

beam = pytest.importorskip("apache_beam")  # in the dev group, so CI has it; SOCIALSCORE_NO_SKIP fails a skip

from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline

from socialscore.beam.runner import local_runner
from socialscore.beam.transform import build_transform, read_result, transform_beam
from socialscore.config import DataConfig, TransformConfig
from socialscore.errors import DataError
from socialscore.steps.extract import extract
from socialscore.steps.transform import transform
from socialscore.storage.synthetic import generate_example


def raw_table(tmp_path: Path, rows: int = 900) -> pd.DataFrame:
    """extract's table of generated comments with every kind of row transform treats specially."""
    frame = generate_example(rows, seed=5).astype({"toxic": object, "insult": object})
    frame.loc[1, "comment_text"] = "call me at 555-123-4567 or mail jo@example.com"
    frame.loc[2, "comment_text"] = "   "  # empty after normalising: rejected
    frame.loc[3, "toxic"] = 7  # not 0/1: rejected
    frame.loc[4, "comment_text"] = frame.loc[40, "comment_text"]  # same text: merged
    frame.loc[5, "id"] = frame.loc[60, "id"]  # same id, other text: a conflict
    frame.loc[6, "comment_text"] = "x" * 30_000  # too long: rejected
    frame.loc[7, "comment_text"] = "rejected, and with a phone 555-987-6543"
    frame.loc[7, "insult"] = "maybe"
    frame.loc[500:520, "id"] = ""  # ids derived from the text
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    extract([path], DataConfig(keep_raw=True)).frame.to_parquet(tmp_path / "raw.parquet", index=False)
    return pd.read_parquet(tmp_path / "raw.parquet")  # as the step reads its input, either engine


def csv_text(frame: pd.DataFrame) -> str:
    from socialscore.storage.csvsafe import write_csv_safe

    out = io.StringIO()
    write_csv_safe(frame, out)
    return out.getvalue()


def assert_same(beam_result, local_result) -> None:
    pd.testing.assert_frame_equal(beam_result.clean, local_result.clean)  # the clean artifact is parquet
    # the rejected artifact is a CSV: its text must be the same (parquet between the pipeline and the
    # driver turns object columns of strings into pandas' string dtype, which the CSV does not show)
    assert csv_text(beam_result.rejected) == csv_text(local_result.rejected)
    pd.testing.assert_frame_equal(beam_result.rejected, local_result.rejected, check_dtype=False)
    assert beam_result.report == local_result.report


@pytest.mark.slow
@pytest.mark.parametrize("chunk_rows", [64, 10_000])
def test_test_pipeline_equals_local_transform(tmp_path: Path, chunk_rows: int) -> None:
    raw = raw_table(tmp_path)
    cfg = TransformConfig(max_id_conflict_share=0.01)
    local = transform(raw, cfg)
    assert local.report["rows_rejected"] >= 5 and local.report["duplicates_merged"] >= 1
    assert local.report["ids"]["conflicting_rows"] == 1 and sum(local.report["pii_replaced"].values()) >= 2
    with BeamTestPipeline(runner=local_runner()) as pipeline:
        build_transform(pipeline, str(tmp_path / "raw.parquet"), str(tmp_path), cfg, chunk_rows=chunk_rows)
    assert_same(read_result(str(tmp_path)), local)


@pytest.mark.slow
def test_sampled_transform_and_conflict_error(tmp_path: Path) -> None:
    raw = raw_table(tmp_path, 400)
    cfg = TransformConfig(sample_size=150, max_id_conflict_share=0.01, seed=3)
    assert_same(transform_beam(tmp_path / "raw.parquet", cfg, chunk_rows=50), transform(raw, cfg))
    with pytest.raises(DataError, match="carr"):  # the local engine's error, raised on the driver
        transform(raw, TransformConfig())
    with pytest.raises(DataError, match="carr"):
        transform_beam(tmp_path / "raw.parquet", TransformConfig(), chunk_rows=50)


@pytest.mark.slow
def test_empty_raw_table(tmp_path: Path) -> None:
    raw_table(tmp_path, 100).iloc[:0].to_parquet(tmp_path / "raw.parquet", index=False)
    raw = pd.read_parquet(tmp_path / "raw.parquet")
    assert_same(transform_beam(tmp_path / "raw.parquet", TransformConfig()), transform(raw, TransformConfig()))
