"""extract: source resolution (configured files, fallback chain, generated example) and the raw table."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from socialscore.config import DataConfig, load_settings
from socialscore.errors import DataError
from socialscore.layout import Layout
from socialscore.pipeline.context import StepContext
from socialscore.steps.extract import EXAMPLE_SOURCE, extract, run
from socialscore.steps.transform import transform
from socialscore.storage.csvformat import JIGSAW_LABELS
from socialscore.storage.sources import extract_sources as resolve_sources

RAW_COLUMNS = ["id", "text", "source", "source_row"]


def settings_for(project_dir: Path, **data):
    return load_settings("dev", project_dir, [{"data": data}] if data else None)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- resolve_sources ------------------------------------------------------------------------------
def test_configured_files_resolve_against_the_project(project_dir: Path) -> None:
    write(project_dir / "in" / "a.csv", "text,label\nhi,0\n")
    absolute = write(project_dir.parent / "b.csv", "text,label\nho,1\n")
    settings = settings_for(project_dir, files=["in/a.csv", str(absolute)])
    assert resolve_sources(Layout(project_dir, "dev"), settings) == [
        project_dir / "in" / "a.csv",
        absolute,
    ]


def test_missing_configured_file_is_named(project_dir: Path) -> None:
    settings = settings_for(project_dir, files=["nowhere.csv"])
    with pytest.raises(DataError, match="nowhere.csv"):
        resolve_sources(Layout(project_dir, "dev"), settings)


def test_fallback_chain_order_and_unlabelled_prod(project_dir: Path) -> None:
    layout = Layout(project_dir, "dev")
    settings = settings_for(project_dir)
    assert resolve_sources(layout, settings) == []
    assert not (project_dir / "data").exists()  # side-effect free: nothing generated or created
    train = write(layout.raw_dir / "train.csv", "id,comment_text,toxic\n1,x,0\n")
    assert resolve_sources(layout, settings) == [train]
    write(layout.raw_dir / "prod.csv", "comment_text\nscore me\n")  # unlabelled: skipped
    assert resolve_sources(layout, settings) == [train]
    prod = write(layout.raw_dir / "prod.csv", "comment_text,toxic\nlabelled,1\n")
    assert resolve_sources(layout, settings) == [prod]
    cleaned = write(
        layout.raw_dir / "cleaned_training_sample.csv", "id,toxic,anonymized_comment\n1,0,x\n"
    )
    assert resolve_sources(layout, settings) == [cleaned]


# --- extract --------------------------------------------------------------------------------------
def test_jigsaw_file_keeps_raw_values(tmp_path: Path) -> None:
    header = "id,comment_text," + ",".join(JIGSAW_LABELS)
    path = write(tmp_path / "train.csv", f"{header}\na1,hello,0,0,0,0,0,0\na2,bad,yes,2,,NaN,1,0\n")
    result = extract([path], DataConfig())
    frame = result.frame
    assert list(frame.columns) == RAW_COLUMNS + [f"label_{x}" for x in JIGSAW_LABELS] + [
        "_error",
        "text_key",
        "pii_scrubbed",
    ]
    assert frame["source"].tolist() == ["train.csv", "train.csv"]
    assert frame["source_row"].tolist() == [1, 2]
    row = frame.iloc[1]
    assert (
        row["label_toxic"],
        row["label_severe_toxic"],
        row["label_obscene"],
        row["label_threat"],
    ) == (
        "yes",
        "2",
        "",
        "NaN",
    )


def test_davidson_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "labeled_data.csv",
        ",count,hate_speech,offensive_language,neither,class,tweet\n0,3,0,0,3,2,hi\n1,3,3,0,0,0,x\n2,3,0,3,0,1,y\n",
    )
    frame = extract([path], DataConfig()).frame
    assert frame["id"].tolist() == ["0", "1", "2"]
    assert frame["label_hate"].tolist() == ["0", "1", "0"]
    assert frame["label_offensive"].tolist() == ["0", "0", "1"]
    assert frame["label_toxic"].tolist() == ["0", "1", "1"]


def test_plain_text_label_and_configured_columns(tmp_path: Path) -> None:
    plain = extract([write(tmp_path / "p.csv", "text,label\nhi,0\n")], DataConfig()).frame
    assert plain["id"].tolist() == [None] and plain["label_toxic"].tolist() == ["0"]
    custom = write(tmp_path / "c.tsv", "key\tbody\tmean\nk1\thi\t1\n")
    cfg = DataConfig(text_column="body", label_columns=["mean"], id_column="key")
    frame = extract([custom], cfg).frame
    assert (frame.loc[0, "id"], frame.loc[0, "text"], frame.loc[0, "label_mean"]) == (
        "k1",
        "hi",
        "1",
    )


def test_unlabelled_or_textless_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no label column"):
        extract([write(tmp_path / "u.csv", "comment_text\nhi\n")], DataConfig())
    with pytest.raises(DataError, match=r"no text column.*'foo', 'bar'"):
        extract([write(tmp_path / "t.csv", "foo,bar\n1,2\n")], DataConfig())


def test_several_files_share_their_common_labels(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "id,comment_text,toxic,insult\n1,x,1,1\n")
    b = write(tmp_path / "b.csv", "text,label\ny,0\n")
    result = extract([a, b], DataConfig())
    assert [c for c in result.frame.columns if c.startswith("label_")] == ["label_toxic"]
    assert result.frame["source"].tolist() == ["a.csv", "b.csv"]
    assert any("label_insult" in n for n in result.notes)


def test_no_paths_means_the_generated_example(project_dir: Path) -> None:
    result = extract([], DataConfig(example_rows=200, example_seed=1))
    assert len(result.frame) == 200
    assert set(result.frame["source"]) == {EXAMPLE_SOURCE}
    assert result.frame["label_toxic"].isin(["0", "1"]).all()


# --- run ------------------------------------------------------------------------------------------
def context(project_dir: Path, step: str, **data) -> StepContext:
    settings = settings_for(project_dir, **data)
    layout = Layout(project_dir, "dev")
    layout.ensure()
    return StepContext(
        step=step, settings=settings, layout=layout, logger=logging.getLogger("socialscore.test")
    )


def test_run_warns_loudly_about_synthetic_data(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = context(project_dir, "extract", example_rows=300)
    with caplog.at_level(logging.WARNING):
        run(ctx)
    assert "SYNTHETIC" in caplog.text and "--data" in caplog.text
    raw = pd.read_parquet(ctx.location("raw"))
    assert len(raw) == 300 and ctx.facts["rows"] == 300 and ctx.facts["files"] == [EXAMPLE_SOURCE]
    assert not list(ctx.layout.raw_dir.iterdir())  # nothing written to data/raw


def test_run_reports_unparsed_records(project_dir: Path) -> None:
    write(
        project_dir / "data" / "raw" / "train.csv", "id,text,toxic\n1,a,0\n2,b,c,1\n\xe9,\x00ok,1\n"
    )
    ctx = context(project_dir, "extract")
    run(ctx)
    assert ctx.facts["rows"] == 3 and ctx.facts["unparsed_records"] == 1
    assert any("NUL" in n for n in ctx.facts["encoding_notes"])


# --- the shared datasets --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize(
    ("relative", "rows", "labels", "min_kept"),
    [
        ("data/jigsaw/cleaned_training_sample.csv", 10_000, 6, 9_900),
        ("data/jigsaw/train_raw_sample_300.csv", 300, 6, 300),
        ("data/jigsaw/train_toxic_10k_lowercased.csv", 7_997, 1, 7_900),
        ("data/davidson2017/labeled_data.csv", 24_783, 3, 24_500),
    ],
)
def test_shared_datasets(shared_file, relative: str, rows: int, labels: int, min_kept: int) -> None:
    from socialscore.config import TransformConfig

    raw = extract([shared_file(relative)], DataConfig()).frame
    assert len(raw) == rows
    assert raw["_error"].isna().all()
    assert sum(c.startswith("label_") for c in raw.columns) == labels
    report = transform(raw, TransformConfig()).report
    assert (
        report["rows_in"]
        == report["rows_kept"] + report["rows_rejected"] + report["duplicates_merged"]
    )
    assert report["rows_kept"] >= min_kept
    assert report["rows_rejected"] == 0
    assert 0.15 < report["split"]["test"] / report["rows_kept"] < 0.25


# --- issue 13: no raw PII at rest, one-line failures ----------------------------------------------
PII_CSV = "id,comment_text,toxic\n1,mail john dot doe at gmail dot com or call 020 7946 0958,0\n2,fine,1\n"


def test_the_raw_extract_is_scrubbed_before_it_is_written(project_dir: Path) -> None:
    """Issue 13: data/interim/raw_{mode}.parquet kept every raw text."""
    write(project_dir / "data" / "raw" / "train.csv", PII_CSV)
    ctx = context(project_dir, "extract")
    run(ctx)
    on_disk = ctx.location("raw").read_bytes()
    assert b"john" not in on_disk and b"7946" not in on_disk
    raw = pd.read_parquet(ctx.location("raw"))
    assert raw.loc[0, "text"] == "mail [EMAIL] or call [PHONE]" and raw["pii_scrubbed"].all()
    assert ctx.facts["pii_replaced"] == 2


def test_keep_raw_keeps_the_raw_text_and_says_so(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(project_dir / "data" / "raw" / "train.csv", PII_CSV)
    ctx = context(project_dir, "extract", keep_raw=True)
    with caplog.at_level(logging.WARNING):
        run(ctx)
    raw = pd.read_parquet(ctx.location("raw"))
    assert "020 7946 0958" in raw.loc[0, "text"] and not raw["pii_scrubbed"].any()
    assert "keep_raw" in caplog.text
    clean = transform(raw, __import__("socialscore.config").config.TransformConfig()).clean
    assert clean.loc[clean["id"] == "1", "text"].item() == "mail [EMAIL] or call [PHONE]"


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: ENOSPC while writing the extract was a traceback."""
    import errno

    write(project_dir / "data" / "raw" / "train.csv", PII_CSV)
    ctx = context(project_dir, "extract")

    def full_disk(self, table, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import pyarrow.parquet as pq

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk)  # extract writes the chunks as they come
    with pytest.raises(DataError) as info:
        run(ctx)
    message = str(info.value)
    assert message.startswith("no space left on the device while trying to write ")
    assert "free disk space" in message and "\n" not in message
    interim = ctx.location("raw").parent
    assert not ctx.location("raw").exists()
    assert [p.name for p in interim.iterdir()] == []  # no stray temporary file


@pytest.mark.parametrize("kind", ["directory", "symlink_loop", "permission", "fifo"])
def test_file_system_problems_are_one_line(project_dir: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """Issue 13: a directory was "not found", a symlink loop a traceback."""
    import os

    path = project_dir / "in.csv"
    if kind == "directory":
        path.mkdir()
        expected = "is a directory, not a CSV file"
    elif kind == "symlink_loop":
        path.symlink_to(path.name)
        expected = "is a symlink loop"
    elif kind == "fifo":
        os.mkfifo(path)
        expected = "is not a regular file"
    else:
        write(path, PII_CSV)
        monkeypatch.setattr(os, "access", lambda *a, **k: False)  # tests may run as root
        expected = "permission denied: cannot read"
    settings = settings_for(project_dir, files=[str(path)])
    with pytest.raises(DataError) as info:
        resolve_sources(Layout(project_dir, "dev"), settings)
    assert expected in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match=expected):
        extract([path], DataConfig())


def test_unicode_label_names_are_sanitised_and_displayed(tmp_path: Path) -> None:
    """Issue 13: a non-ASCII label name failed only at the load step."""
    path = write(tmp_path / "u.csv", "id,comment_text,toxicité,有毒\n1,a,0,1\n2,b,1,0\n")
    result = extract([path], DataConfig(label_columns=["toxicité", "有毒"]))
    labels = [c for c in result.frame.columns if c.startswith("label_")]
    assert labels[0] == "label_toxicite" and labels[1].startswith("label_u_")
    assert result.label_display["toxicite"] == "toxicité"
    assert any("'toxicité' is stored as label_toxicite" in n for n in result.notes)


def hostile_files(tmp_path: Path) -> list[Path]:
    """Two files: one the careful parser reads (records with too many fields, an unbalanced quote),
    with PII, look-alikes and missing ids; one in Davidson's format without an id column."""
    rows = []
    for i in range(60):
        text = f"comment {i} mail u{i}@example.com" if i % 5 == 0 else f"ｃｏｍｍｅｎｔ {i} 😀"
        ident = "" if i % 7 == 0 else f"a{i}"
        rows.append(f"{ident},{text},{i % 2},{i % 3 % 2}")
        if i % 11 == 3:
            rows.append(f"x{i},too,many,fields,here")
    rows.insert(45, 'q1,"an unbalanced quote,0,0')
    first = write(tmp_path / "a.csv", "id,comment_text,toxic,insult\n" + "\n".join(rows) + "\n")
    davidson = "".join(f"{i},3,0,0,3,{i % 3},tweet {i} call 555-123-{4000 + i}\n" for i in range(30))
    second = write(tmp_path / "labeled_data.csv", ",count,hate_speech,offensive_language,neither,class,tweet\n" + davidson)
    return [first, second]


@pytest.mark.slow
@pytest.mark.parametrize("keep_raw", [False, True])
def test_extract_in_chunks_equals_extract_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_raw: bool) -> None:
    from socialscore.steps import extract as step

    paths, cfg = hostile_files(tmp_path), DataConfig(keep_raw=keep_raw)
    monkeypatch.setattr(step, "CHUNK_ROWS", 10_000)
    whole = extract(paths, cfg)
    assert whole.frame["_error"].notna().sum() >= 5 and whole.table.num_rows > 90
    for rows in (1, 7):
        monkeypatch.setattr(step, "CHUNK_ROWS", rows)
        chunked = extract(paths, cfg)
        pd.testing.assert_frame_equal(chunked.frame, whole.frame)
        assert (chunked.notes, chunked.pii_replaced, chunked.label_display) == (
            whole.notes, whole.pii_replaced, whole.label_display
        )


def test_extract_protects_the_rows_in_chunks(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialscore.steps import extract as step

    paths = hostile_files(project_dir / "data" / "raw")
    ctx = context(project_dir, "extract", files=[str(p) for p in paths])
    monkeypatch.setattr(step, "CHUNK_ROWS", 16)
    seen: list[int] = []
    real = step.protect
    monkeypatch.setattr(step, "protect", lambda frame, keep: seen.append(len(frame)) or real(frame, keep))
    run(ctx)
    assert seen and max(seen) <= 16  # never the whole table's Python strings at once
    written = pd.read_parquet(ctx.location("raw"))
    assert len(written) == ctx.facts["rows"] == sum(seen) - 2  # two schema probes:
    # the streaming reader's, before it met a record only the careful parser reads, and the whole-file reader's
    assert ctx.facts["unparsed_records"] == int(written["_error"].notna().sum()) >= 5


@pytest.mark.parametrize("files", ["hostile", "clean"])
def test_run_writes_the_raw_table_in_chunks_as_the_whole_one(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, files: str
) -> None:
    import pyarrow.parquet as pq

    from socialscore.steps import extract as step

    if files == "hostile":
        paths = hostile_files(project_dir / "data" / "raw")
    else:  # no parse errors, no ids: the _error and id columns are None in every row (null type)
        rows = "".join(f"comment {i},{i % 2}\n" for i in range(40))
        paths = [write(project_dir / "data" / "raw" / "plain.csv", "comment_text,toxic\n" + rows)]
    ctx = context(project_dir, "extract", files=[str(p) for p in paths])
    monkeypatch.setattr(step, "CHUNK_ROWS", 16)
    whole = extract(paths, ctx.settings.data).table
    sizes: list[int] = []
    real = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table", lambda w, t, *a, **k: sizes.append(t.num_rows) or real(w, t, *a, **k))
    run(ctx)
    assert len(sizes) > 2 and max(sizes) <= 16  # the raw table is never whole in memory
    written = pq.read_table(ctx.location("raw"))
    assert written.schema == whole.schema and written.equals(whole)
    assert ctx.facts["rows"] == whole.num_rows and ctx.facts["unparsed_records"] == written.num_rows - written.column("_error").null_count
