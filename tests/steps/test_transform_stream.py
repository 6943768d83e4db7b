"""transform in bounded memory: pass 2 holds a few keys per row, and the clean table is written in parts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_transform import cfg, context_with_raw, hostile_raw, raw_frame

from socialscore.steps import transform as step

TEXT_CHARS = 2_000


def long_raw(rows: int) -> pd.DataFrame:
    """Distinct comments of ``TEXT_CHARS`` characters, a few of them duplicated."""
    texts = [f"comment {i % (rows - 5)} " + "lorem ipsum " * (TEXT_CHARS // 12) for i in range(rows)]
    return raw_frame([{"text": t, "id": None} for t in texts])


def held_in_pass_two(rows: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Arrow bytes allocated by transform when pass 2 splits its first chunk (chunks of 16 rows)."""
    raw = long_raw(rows)
    before = pa.total_allocated_bytes()
    seen: list[int] = []
    real = step.split_rows

    def spy(*args):  # type: ignore[no-untyped-def]
        if not seen:
            seen.append(pa.total_allocated_bytes() - before)
        return real(*args)

    monkeypatch.setattr(step, "split_rows", spy)
    result = step.transform(raw, cfg(), chunk_rows=16)
    assert result.report["rows_kept"] == rows - 5
    return seen[0]


@pytest.mark.slow
def test_what_pass_two_holds_per_row_is_keys_not_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = held_in_pass_two(100, monkeypatch), held_in_pass_two(400, monkeypatch)
    per_row = (large - small) / 300
    assert per_row < 400  # ids, text keys and labels; the normalised texts would be ~2,000 bytes a row


@pytest.mark.slow
def test_run_writes_the_clean_table_in_parts(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = hostile_raw(200, keep_raw=False)
    ctx = context_with_raw(project_dir, raw)
    monkeypatch.setattr(step, "CHUNK_ROWS", 16)
    sizes: list[int] = []
    real = pq.ParquetWriter.write_table

    def spy(writer, table, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "content_hash" in table.column_names:
            sizes.append(table.num_rows)
        return real(writer, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", spy)
    step.run(ctx)
    expected = step.transform(raw, ctx.settings.transform)
    assert len(sizes) > 3 and max(sizes) <= 16  # the clean table is never whole in memory
    pd.testing.assert_frame_equal(pd.read_parquet(ctx.location("clean")), expected.clean)
    assert ctx.facts["rows_kept"] == expected.report["rows_kept"] == sum(sizes)
