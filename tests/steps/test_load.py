"""load: the table-ready frame (pure) and the step writing it idempotently, per mode."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import pandas as pd
import pytest

from socialscore.config import load_settings
from socialscore.errors import DataError
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import write_file_artifact
from socialscore.pipeline.context import StepContext
from socialscore.steps import load
from socialscore.storage.db.database import Database

STAMP = pd.Timestamp("2024-05-01 12:00:00", tz="UTC")


def clean_frame(n: int = 12, tag: str = "c") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{tag}{i}" for i in range(n)],
            "text": [f"a comment with a \"quote\"\tand\nmore {i} 😀" for i in range(n)],
            "split": ["test" if i % 4 == 0 else "train" for i in range(n)],
            "label_toxic": [i % 2 for i in range(n)],
            "label_insult": [0] * n,
            "source": ["input.csv"] * n,
        }
    )


# --- the pure part -------------------------------------------------------------------------------
def test_table_frame_orders_types_and_stamps() -> None:
    clean = clean_frame()
    table = load.table_frame(clean, STAMP)
    assert list(table.columns) == [
        "id", "text", "label_toxic", "label_insult", "split", "source", "content_hash", "loaded_at"
    ]
    assert str(table["label_toxic"].dtype) == "int16"
    assert str(table["loaded_at"].dtype) == "datetime64[us]"  # UTC, stored without a zone
    assert (table["loaded_at"] == pd.Timestamp("2024-05-01 12:00:00")).all()
    assert table.loc[3, "content_hash"] == hashlib.sha256(clean.loc[3, "text"].encode()).hexdigest()
    assert "loaded_at" not in clean.columns  # input untouched


def test_table_frame_keeps_a_given_content_hash() -> None:
    clean = clean_frame(3).assign(content_hash=["h1", "h2", "h3"])
    assert load.table_frame(clean, STAMP)["content_hash"].tolist() == ["h1", "h2", "h3"]


def test_table_frame_needs_id_and_text() -> None:
    with pytest.raises(DataError, match="'id'"):
        load.table_frame(clean_frame().drop(columns=["id"]), STAMP)


def test_checksum_ignores_loaded_at_but_not_content() -> None:
    first = load.table_frame(clean_frame(), STAMP)
    later = load.table_frame(clean_frame(), STAMP + pd.Timedelta(hours=5))
    assert load.checksum(first) == load.checksum(later)
    changed = clean_frame()
    changed.loc[0, "label_insult"] = 1
    assert load.checksum(load.table_frame(changed, STAMP)) != load.checksum(first)


# --- the step ------------------------------------------------------------------------------------
@pytest.fixture
def prefix(database: Database):
    """A table prefix unique to this test; its dev and prod tables are dropped afterwards."""
    value = f"t{uuid.uuid4().hex[:10]}"
    yield value
    for mode in ("dev", "prod"):
        database.drop_table(f"{value}_{mode}")


def context(project_dir: Path, mode: str, prefix: str, database: Database, clean: pd.DataFrame) -> StepContext:
    settings = load_settings(mode, project_dir, [{"database": {"table_prefix": prefix}}])
    layout = Layout(project_dir, mode)
    layout.ensure()
    write_file_artifact("parquet", layout.interim("clean"), clean)
    return StepContext("load", settings, layout, logging.getLogger("test.load"), database_factory=lambda: database)


def test_load_twice_gives_the_same_table(project_dir: Path, database: Database, prefix: str) -> None:
    clean = clean_frame(30)
    ctx = context(project_dir, "dev", prefix, database, clean)
    load.run(ctx)
    table = ctx.location("comments")
    first_checksum = database.table_checksum(table)
    first = database.read_table(table)
    assert ctx.facts["rows"] == 30 and ctx.facts["database"] == database.describe()
    assert ctx.facts["rows_per_s"] > 0

    again = context(project_dir, "dev", prefix, database, clean)
    load.run(again)
    assert database.table_checksum(table) == first_checksum
    second = database.read_table(table)
    pd.testing.assert_frame_equal(first.drop(columns="loaded_at"), second.drop(columns="loaded_at"))
    assert second["text"].tolist() == clean["text"].tolist()
    assert second.loc[0, "loaded_at"] >= first.loc[0, "loaded_at"]


def test_dev_and_prod_tables_are_independent(project_dir: Path, database: Database, prefix: str) -> None:
    dev = context(project_dir, "dev", prefix, database, clean_frame(10, tag="d"))
    load.run(dev)
    prod = context(project_dir, "prod", prefix, database, clean_frame(25, tag="p"))
    load.run(prod)
    assert dev.location("comments") != prod.location("comments")
    dev_checksum = database.table_checksum(dev.location("comments"))

    load.run(context(project_dir, "prod", prefix, database, clean_frame(5, tag="q")))
    assert database.table_checksum(dev.location("comments")) == dev_checksum
    assert database.read_table(dev.location("comments"))["id"].tolist() == [f"d{i}" for i in range(10)]
    assert len(database.read_table(prod.location("comments"))) == 5


def test_context_read_returns_the_loaded_comments(project_dir: Path, database: Database, prefix: str) -> None:
    ctx = context(project_dir, "dev", prefix, database, clean_frame(8))
    load.run(ctx)
    comments = ctx.read("comments")
    assert comments["id"].tolist() == [f"c{i}" for i in range(8)]
    assert set(comments["split"]) == {"train", "test"}


def test_checksum_chunks_equals_the_whole_tables_checksum() -> None:
    table = load.table_frame(clean_frame(23), STAMP)
    table.loc[5, "text"] = "ｆｕｌｌ-width ＡＢＣ and a \u202e right-to-left mark"
    parts = [table.iloc[start : start + 4] for start in range(0, len(table), 4)]
    assert load.checksum_chunks(parts) == load.checksum(table)
    assert load.checksum_chunks(parts[:-1]) != load.checksum(table)


def test_load_reads_the_clean_rows_in_chunks(
    project_dir: Path, database: Database, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = clean_frame(30)
    ctx = context(project_dir, "dev", prefix, database, clean)
    monkeypatch.setattr(load, "CHUNK_ROWS", 7)
    seen: list[int] = []
    real = load.table_frame

    def spy(frame: pd.DataFrame, loaded_at: pd.Timestamp) -> pd.DataFrame:
        seen.append(len(frame))
        return real(frame, loaded_at)

    monkeypatch.setattr(load, "table_frame", spy)
    load.run(ctx)
    assert seen and max(seen) <= 7  # never the whole clean table at once
    table = ctx.location("comments")
    assert database.table_checksum(table) == load.checksum(real(clean, STAMP))
    assert database.read_table(table)["id"].tolist() == clean["id"].tolist()
