"""extract streams a plain UTF-8 CSV: never the file's bytes or its whole table in memory, and the
same raw table as the whole-file reader (which still reads everything the C parser refuses)."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest

from socialscore.config import DataConfig
from socialscore.steps import extract as step
from socialscore.storage import datasets, streaming

from test_extract import context, hostile_files, write


def _rows(n: int, ident=lambda i: f"c{i}", bad_at: int | None = None) -> str:
    lines = []
    for i in range(n):
        text = f"comment {i} mail u{i}@example.com" if i % 5 == 0 else f'"ｃｏｍｍｅｎｔ, {i} 😀\nline two"'
        lines.append(f"{ident(i)},{text},{i % 2},{i % 3 % 2}")
        if i == bad_at:
            lines.append("x,too,many,fields,here")
    return "id,comment_text,toxic,insult\n" + "\n".join(lines) + "\n"


CASES = {
    "ids": lambda d: [write(d / "a.csv", _rows(90))],
    "blank ids (id null-typed)": lambda d: [write(d / "a.csv", _rows(90, ident=lambda i: " "))],
    "tabs, duplicate column": lambda d: [write(d / "t.tsv", "id\ttext\ttext\ttoxic\n" + "".join(f"{i}\tt {i}\tu\t{i % 2}\n" for i in range(40)))],
    "two files, a label dropped": lambda d: [write(d / "a.csv", _rows(40)), hostile_files(d)[1], write(d / "b.csv", "comment_text,toxic\nx,1\ny,0\n")],
    "a record the C parser refuses in chunk 3": lambda d: [write(d / "a.csv", _rows(90, bad_at=70))],
    "hostile": hostile_files,
}


def _whole_file_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "stream_csv", lambda path, cfg: None)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("keep_raw", [False, True])
def test_streamed_extract_equals_the_whole_file_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, keep_raw: bool
) -> None:
    monkeypatch.setattr(step, "CHUNK_ROWS", 16)
    paths, cfg = CASES[case](tmp_path / "in"), DataConfig(keep_raw=keep_raw)
    parts: list[pa.Table] = []

    def collect(chunks) -> None:  # as the writer does: a pass given up leaves nothing
        parts.clear()
        parts.extend(chunks)

    streamed = step.extract(paths, cfg, collect)
    _whole_file_only(monkeypatch)
    whole = step.extract(paths, cfg)
    table = pa.concat_tables(parts)
    assert table.schema == whole.table.schema and table.equals(whole.table)
    assert max(p.num_rows for p in parts) <= 16
    for attr in ("notes", "pii_replaced", "label_display", "schemas", "rows", "unparsed"):
        assert getattr(streamed, attr) == getattr(whole, attr), attr


@pytest.mark.parametrize("case", ["ids", "blank ids (id null-typed)", "a record the C parser refuses in chunk 3"])
def test_the_raw_parquet_is_byte_for_byte_the_whole_file_readers(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    paths = CASES[case](project_dir / "data" / "raw")
    digests, facts = [], []
    for whole_file in (False, True):
        if whole_file:
            _whole_file_only(monkeypatch)
        ctx = context(project_dir, "extract", files=[str(p) for p in paths])
        step.run(ctx)
        digests.append(hashlib.sha256(Path(ctx.location("raw")).read_bytes()).hexdigest())
        facts.append(ctx.facts)
    assert digests[0] == digests[1] and facts[0] == facts[1]
    assert not list(Path(ctx.location("raw")).parent.glob(".raw*"))  # a pass given up left no temporary file


def _no_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(*args: object) -> bytes:
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(datasets, "read_input_bytes", whole)


def test_extract_never_asks_for_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_whole_file(monkeypatch)
    monkeypatch.setattr(streaming, "SEGMENT_BYTES", 1 << 10)
    parts: list[pa.Table] = []
    result = step.extract(CASES["ids"](tmp_path), DataConfig(), parts.extend)
    assert result.rows == sum(p.num_rows for p in parts) == 90


@pytest.mark.slow
def test_extract_memory_stays_below_the_files_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(f"c{i},just a plain comment number {i},{i % 2}\n" for i in range(60_000))
    path = write(tmp_path / "big.csv", "id,comment_text,toxic\n" + text)  # 2.6 MB
    monkeypatch.setattr(step, "CHUNK_ROWS", 200)
    monkeypatch.setattr(streaming, "SEGMENT_BYTES", 1 << 16)
    _no_whole_file(monkeypatch)
    rows = [0]

    def consume(chunks) -> None:
        for chunk in chunks:
            rows[0] += chunk.num_rows

    step.extract([write(tmp_path / "small.csv", _rows(50))], DataConfig(), consume)  # imports, compiled patterns
    rows[0] = 0
    tracemalloc.start()
    try:
        result = step.extract([path], DataConfig(), consume)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows[0] == result.rows == 60_000
    # What is left: a chunk's rows as Python strings, and the C parser's 256 KiB read buffer.
    assert peak < path.stat().st_size / 3, (peak, path.stat().st_size)
