"""transform: validation with reasons, normalisation, PII, de-duplication, sampling, split, accounting."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from socialscore.config import TransformConfig, load_settings
from socialscore.layout import Layout
from socialscore.pipeline.context import StepContext
from socialscore.steps.extract import extract
from socialscore.steps.transform import TransformResult, assign_split, run, transform

LABELS = ["label_toxic", "label_insult"]


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    """A raw table as extract writes it; missing keys default to a valid row."""
    records = []
    for i, row in enumerate(rows, start=1):
        base = {
            "id": f"r{i}",
            "text": f"comment number {i}",
            "source": "t.csv",
            "source_row": i,
            "label_toxic": "0",
            "label_insult": "0",
            "_error": None,
        }
        base.update(row)
        records.append(base)
    return pd.DataFrame(records).astype(
        {c: object for c in ["id", "text", "label_toxic", "label_insult", "_error"]}
    )


def accounted(result: TransformResult) -> None:
    r = result.report
    assert (
        r["rows_in"]
        == r["rows_kept"] + r["rows_rejected"] + r["duplicates_merged"] + r["sampled_out"]
    )


def cfg(**kw) -> TransformConfig:
    return TransformConfig(**kw)


def test_clean_columns_and_types() -> None:
    result = transform(raw_frame([{}, {"label_toxic": "1", "label_insult": " 1.0 "}]), cfg())
    clean = result.clean
    assert list(clean.columns) == ["id", "text", "source", *LABELS, "split", "content_hash"]
    assert str(clean["label_toxic"].dtype) == "int8"
    assert clean["label_insult"].tolist() == [0, 1]
    assert set(clean["split"]) <= {"train", "test"}
    assert clean["content_hash"].str.fullmatch(r"[0-9a-f]{64}").all()
    accounted(result)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2", "'2'"),
        ("NaN", "'NaN'"),
        (None, "missing"),
        ("", "empty"),
        ("-1", "'-1'"),
        ("1.5", "'1.5'"),
    ],
)
def test_bad_label_is_rejected_naming_column_and_value(value: object, shown: str) -> None:
    result = transform(raw_frame([{}, {"label_insult": value}]), cfg())
    assert result.report["rows_rejected"] == 1
    reason = result.rejected.loc[0, "reason"]
    assert reason == f"label_insult: {shown} is not 0 or 1"
    assert result.rejected.loc[0, "id"] == "r2" and result.rejected.loc[0, "source_row"] == 2
    accounted(result)


@pytest.mark.parametrize("value", ["0.5", "0.99999999999999999", "1e-20"])
def test_soft_labels_are_rejected_with_a_reason(value: str) -> None:
    """Issue 13: ``0.99999999999999999`` used to become 1 silently."""
    result = transform(raw_frame([{}, {"label_toxic": value}]), cfg())
    assert result.report["rows_rejected"] == 1
    assert result.rejected.loc[0, "reason"] == (
        f"label_toxic: {value!r} is a soft label, not 0 or 1 (labels must be exactly 0 or 1: threshold them first)"
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["true", "FALSE", " True "], [1, 0, 1]),
        (["yes", "no", "Yes"], [1, 0, 1]),
        (["1", "0.0", "1.000"], [1, 0, 1]),
    ],
)
def test_one_vocabulary_per_column_parses_exactly(values: list[str], expected: list[int]) -> None:
    result = transform(raw_frame([{"label_toxic": v} for v in values]), cfg())
    assert result.report["rows_rejected"] == 0
    assert result.clean.sort_values("id")["label_toxic"].tolist() == expected


@pytest.mark.parametrize(("values", "odd"), [(["1", "0", "yes"], "'yes'"), (["true", "no", "false"], "'no'")])
def test_mixed_label_vocabularies_are_rejected(values: list[str], odd: str) -> None:
    result = transform(raw_frame([{"label_toxic": v} for v in values]), cfg())
    reasons = result.rejected["reason"].tolist()
    assert any(r.startswith(f"label_toxic: {odd} mixes label vocabularies") for r in reasons)
    accounted(result)


def test_rejection_reasons() -> None:
    huge = "x" * 1_000_000  # a 1 MB comment
    rows = [
        {},
        {"text": "   \t "},
        {"text": None},
        {"text": huge},
        {"_error": "too many fields (5, expected 3)", "text": "2,a,b,c,1"},
    ]
    result = transform(raw_frame(rows), cfg(max_text_chars=20_000))
    reasons = result.rejected.set_index("id")["reason"].to_dict()
    assert reasons == {
        "r2": "empty text",
        "r3": "empty text",
        "r4": "text over 20000 characters (1000000)",
        "r5": "parse error: too many fields (5, expected 3)",
    }
    assert result.report["rejected_by_reason"] == {
        "empty text": 2,
        "text too long": 1,
        "parse error": 1,
    }
    assert result.clean["id"].tolist() == ["r1"]
    accounted(result)


def test_duplicate_ids_with_different_labels_merge_by_the_any_rule() -> None:
    rows = [
        {"id": "a", "text": "first text", "label_toxic": "0"},
        {"id": " a ", "text": "first  text", "label_toxic": "1"},
        {"id": "b", "text": "other"},
        {"id": "c", "text": "Other  "},  # different case: not a duplicate
        {"id": "d", "text": "other", "label_insult": "1"},  # same normalised text as b
    ]
    result = transform(raw_frame(rows), cfg())
    clean = result.clean.set_index("id")
    assert sorted(clean.index) == ["a", "b", "c"]
    assert clean.loc["a", "text"] == "first text" and clean.loc["a", "label_toxic"] == 1
    assert clean.loc["b", "label_insult"] == 1
    r = result.report
    assert (r["duplicates_by_id"], r["duplicates_by_text"], r["label_conflicts"]) == (1, 1, 2)
    assert "any duplicate says 1" in r["label_conflict_rule"]
    accounted(result)


def test_comments_differing_only_in_pii_are_not_merged() -> None:
    """Issue 13: de-duplication ran after scrubbing, so 200 such comments became 2."""
    rows = [{"id": None, "text": f"call me on 020 7946 {1000 + i:04d} please"} for i in range(200)]
    raw = raw_frame(rows)
    from socialscore.steps.extract import protect

    protect(raw, keep_raw=False)  # as extract writes it: scrubbed text, key of the raw text
    assert raw["text"].nunique() == 1
    result = transform(raw, cfg())
    assert result.report["rows_kept"] == 200 and result.report["duplicates_merged"] == 0
    assert set(result.clean["text"]) == {"call me on [PHONE] please"}
    assert result.clean["id"].nunique() == 200
    accounted(result)


@pytest.mark.parametrize(
    ("ids", "cause"),
    [
        (["a", "a"], ""),
        (["a", " a"], "differ only in surrounding whitespace"),
        (["1.23457E+17", "1.23457E+17"], "Excel's scientific notation (e.g. 1.23457E+17)"),
    ],
)
def test_an_id_with_two_texts_is_an_error_naming_count_and_override(ids: list[str], cause: str) -> None:
    """Issue 13: 500 distinct comments under 5 Excel-rounded ids were merged into 5 with exit 0."""
    from socialscore.errors import DataError

    rows = [{"id": i, "text": f"distinct text {n}"} for n, i in enumerate(ids)]
    with pytest.raises(DataError) as info:
        transform(raw_frame(rows), cfg())
    message = str(info.value)
    assert message.startswith("1 id(s) carry two or more different texts (1 row(s), e.g. id ")
    assert "transform.max_id_conflict_share" in message and cause in message and "\n" not in message


def test_an_allowed_share_of_id_conflicts_rejects_the_later_rows() -> None:
    rows = [{"id": f"x{n // 2}", "text": f"text {n}"} for n in range(4)] + [{"id": f"y{n}"} for n in range(16)]
    result = transform(raw_frame(rows), cfg(max_id_conflict_share=0.1))
    assert result.report["rows_rejected"] == 2 and result.report["rows_kept"] == 18
    assert result.report["rejected_by_reason"] == {"conflicting id": 2}
    assert result.rejected["reason"].tolist() == [
        "id x0 already carries a different text",
        "id x1 already carries a different text",
    ]
    assert result.report["ids"]["conflicting_ids"] == 2
    with pytest.raises(Exception, match="2 id"):
        transform(raw_frame(rows), cfg(max_id_conflict_share=0.05))


def test_normalisation_and_derived_ids_are_stable() -> None:
    rows = [{"id": None, "text": "  Ｈｅｌｌｏ\u200b   world\n"}, {"id": " ", "text": "second"}]
    result = transform(raw_frame(rows), cfg())
    clean = result.clean
    assert clean["text"].tolist() == ["Hello world", "second"]
    reordered = transform(raw_frame(list(reversed(rows))), cfg()).clean
    assert set(reordered["id"]) == set(clean["id"])
    assert all(i.startswith("sha-") for i in clean["id"])
    import hashlib

    assert clean.loc[0, "content_hash"] == hashlib.sha256(b"Hello world").hexdigest()


def test_pii_is_scrubbed_and_counted_in_kept_and_rejected_rows() -> None:
    rows = [
        {"text": "write to jane@example.com or call 555-123-4567"},
        {"text": "me@x.org", "label_toxic": "yes"},
    ]
    result = transform(raw_frame(rows), cfg())
    assert result.clean.loc[0, "text"] == "write to [EMAIL] or call [PHONE]"
    assert result.rejected.loc[0, "text"] == "[EMAIL]"
    assert result.report["pii_replaced"] == {
        "EMAIL": 1, "PHONE": 1, "URL": 0, "USER": 0, "IP": 0, "CARD": 0, "IBAN": 0, "ID": 0, "ADDRESS": 0
    }
    assert (
        transform(raw_frame(rows), cfg(scrub_pii=False))
        .clean.loc[0, "text"]
        .startswith("write to jane@")
    )


def many_rows(n: int, positive_every: int) -> pd.DataFrame:
    return raw_frame(
        [
            {"id": f"id{i}", "text": f"text {i}", "label_toxic": str(int(i % positive_every == 0))}
            for i in range(n)
        ]
    )


def test_split_is_deterministic_stratified_and_sized() -> None:
    raw = many_rows(2000, 10)
    first = transform(raw, cfg(test_size=0.2)).clean
    second = transform(raw.sample(frac=1, random_state=3), cfg(test_size=0.2)).clean
    assert (
        first.set_index("id")["split"]
        .sort_index()
        .equals(second.set_index("id")["split"].sort_index())
    )
    share = (first["split"] == "test").mean()
    assert 0.17 < share < 0.23
    positives = first[first["label_toxic"] == 1]
    assert set(positives["split"]) == {"train", "test"}
    other_seed = transform(raw, cfg(test_size=0.2, seed=7)).clean
    assert not other_seed["split"].equals(first["split"])


@pytest.mark.slow
def test_rare_positives_land_in_both_splits() -> None:
    raw = many_rows(30, 1000)  # only row 0 is positive ...
    raw.loc[5, "label_toxic"] = "1"  # ... and row 5
    for seed in range(10):
        clean = transform(raw, cfg(seed=seed)).clean
        assert set(clean.loc[clean["label_toxic"] == 1, "split"]) == {"train", "test"}


def test_assign_split_direct() -> None:
    ids = pd.Series([f"x{i}" for i in range(100)])
    labels = pd.DataFrame({"label_toxic": [1 if i < 3 else 0 for i in range(100)]})
    split = assign_split(ids, labels, 0.25, seed=1)
    assert set(split[:3]) == {"train", "test"}


def test_sample_size_is_stratified_deterministic_and_accounted() -> None:
    raw = many_rows(3000, 5)
    result = transform(raw, cfg(sample_size=500))
    assert result.report["rows_kept"] == 500 and result.report["sampled_out"] == 2500
    assert result.clean["label_toxic"].mean() == pytest.approx(0.2, abs=0.01)
    again = transform(raw.iloc[::-1], cfg(sample_size=500)).clean
    assert set(again["id"]) == set(result.clean["id"])
    accounted(result)


def test_sampled_rows_still_split_at_the_test_share() -> None:
    """Sampling and splitting hash independently: a 1-in-6 sample keeps a 20% test split."""
    result = transform(many_rows(3000, 5), cfg(sample_size=500, test_size=0.2))
    share = (result.clean["split"] == "test").mean()
    assert share == pytest.approx(0.2, abs=0.05)


def test_example_dataset_end_to_end() -> None:
    from socialscore.config import DataConfig

    extracted = extract([], DataConfig(example_rows=2000))
    assert sum(extracted.pii_replaced.values()) > 0  # scrubbed before it is written
    raw = extracted.frame
    assert not raw["text"].str.contains(r"@example\.org|https?://", regex=True).any()
    result = transform(raw, cfg())
    r = result.report
    assert r["rows_in"] == 2000 and r["rows_rejected"] == 0
    assert r["rows_in"] == r["rows_kept"] + r["rows_rejected"] + r["duplicates_merged"]
    assert 0 < r["duplicates_merged"] < 200
    assert sum(r["pii_replaced"].values()) == 0  # nothing left to scrub
    assert not result.clean["text"].str.contains(r"@example\.org|https?://", regex=True).any()


def test_run_writes_clean_and_rejected(project_dir: Path) -> None:
    settings = load_settings("dev", project_dir)
    layout = Layout(project_dir, "dev")
    layout.ensure()
    ctx = StepContext("transform", settings, layout, logging.getLogger("socialscore.test"))
    ctx.write("raw", raw_frame([{}, {"label_toxic": "2"}, {"id": "r1", "text": "comment number 1"}]))
    run(ctx)
    clean = pd.read_parquet(ctx.location("clean"))
    rejected = pd.read_csv(ctx.location("rejected"), dtype=str)
    assert len(clean) == 1 and len(rejected) == 1 and "reason" in rejected.columns
    assert (
        ctx.facts["rows_in"] == 3
        and ctx.facts["duplicates_merged"] == 1
        and ctx.facts["rows_rejected"] == 1
    )


def test_run_fails_clearly_when_nothing_is_usable(project_dir: Path) -> None:
    from socialscore.errors import DataError

    settings = load_settings("dev", project_dir)
    layout = Layout(project_dir, "dev")
    layout.ensure()
    ctx = StepContext("transform", settings, layout, logging.getLogger("socialscore.test"))
    ctx.write("raw", raw_frame([{"label_toxic": "yes"}, {"text": ""}]))
    with pytest.raises(DataError, match="no usable rows: all 2"):
        run(ctx)
    assert len(pd.read_csv(ctx.location("rejected"))) == 2  # written so the user can see why
    assert not Path(ctx.location("clean")).exists()


def test_unicode_label_columns_flow_through_extract_transform_and_load(project_dir: Path, database) -> None:
    """Issue 13: ``toxicité`` failed only at the load step; now SQLite and PostgreSQL both take it."""
    import uuid

    from socialscore.steps import extract as extract_step
    from socialscore.steps import load

    rows = "".join(f"{i},comment {i} toxicité {i % 2},{i % 2},{(i + 1) % 2}\n" for i in range(12))
    (project_dir / "in.csv").write_text("id,comment_text,toxicité,有毒\n" + rows, encoding="utf-8")
    prefix = "t" + uuid.uuid4().hex[:10]
    settings = load_settings(
        "dev",
        project_dir,
        [{"data": {"files": ["in.csv"], "label_columns": ["toxicité", "有毒"]}, "database": {"table_prefix": prefix}}],
    )
    layout = Layout(project_dir, "dev")
    layout.ensure()

    def ctx(step: str) -> StepContext:
        log = logging.getLogger("socialscore.test")
        return StepContext(step, settings, layout, log, database_factory=lambda: database)

    extract_step.run(ctx("extract"))
    run(ctx("transform"))
    loading = ctx("load")
    try:
        load.run(loading)
        table = database.read_table(loading.location("comments"))
    finally:
        database.drop_table(loading.location("comments"))
    labels = [c for c in table.columns if c.startswith("label_")]
    assert labels[0] == "label_toxicite" and labels[1].startswith("label_u_") and len(table) == 12
    assert table.sort_values("id")["label_toxicite"].tolist() == [int(i) % 2 for i in sorted(str(i) for i in range(12))]


def hostile_raw(rows: int, keep_raw: bool) -> pd.DataFrame:
    """extract's table of generated comments with duplicates, id conflicts, bad rows, PII and look-alikes
    spread over the table, so that they cross chunk boundaries."""
    from socialscore.config import DataConfig
    from socialscore.storage.synthetic import generate_example

    frame = generate_example(rows, seed=11).astype({"toxic": object, "insult": object})
    for i in range(0, rows - 30, 37):
        frame.loc[i, "comment_text"] = frame.loc[i + 23, "comment_text"]  # same text: merged
        frame.loc[i + 1, "id"] = frame.loc[i + 29, "id"]  # same id, other text: a conflict
        frame.loc[i + 2, "comment_text"] = f"call 555-123-{4000 + i} or mail u{i}@example.com"
        frame.loc[i + 3, "comment_text"] = "ｆｕｌｌ ｗｉｄｔｈ" if i % 2 else "full width"  # NFKC look-alikes
        frame.loc[i + 4, "toxic"] = "maybe"  # not 0/1: rejected
        frame.loc[i + 5, "comment_text"] = "  "  # empty: rejected
        frame.loc[i + 6, "id"] = ""  # id derived from the text
        frame.loc[i + 7, ["id", "comment_text", "insult"]] = [frame.loc[i + 8, "id"], frame.loc[i + 8, "comment_text"], 1]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        frame.to_csv(path, index=False)
        return extract([path], DataConfig(keep_raw=keep_raw)).frame


@pytest.mark.slow
@pytest.mark.parametrize("keep_raw", [False, True])
@pytest.mark.parametrize("sample_size", [None, 250])
def test_chunked_transform_equals_the_whole_table(keep_raw: bool, sample_size: int | None) -> None:
    raw = hostile_raw(600, keep_raw)
    config = cfg(max_id_conflict_share=0.2, sample_size=sample_size)
    whole = transform(raw, config, chunk_rows=len(raw))
    assert whole.report["rows_rejected"] >= 30 and whole.report["duplicates_merged"] >= 20
    assert whole.report["ids"]["conflicting_rows"] >= 10 and whole.report["label_conflicts"] >= 1
    for rows in (7, 100):
        chunked = transform(raw, config, chunk_rows=rows)
        pd.testing.assert_frame_equal(chunked.clean, whole.clean)
        pd.testing.assert_frame_equal(chunked.rejected, whole.rejected)
        assert chunked.report == whole.report


def context_with_raw(project_dir: Path, raw: pd.DataFrame) -> StepContext:
    """A dev transform context (id conflicts allowed up to 20%) whose ``raw`` artifact is ``raw``."""
    settings = load_settings("dev", project_dir, [{"transform": {"max_id_conflict_share": 0.2}}])
    layout = Layout(project_dir, "dev")
    layout.ensure()
    ctx = StepContext("transform", settings, layout, logging.getLogger("socialscore.test"))
    ctx.write("raw", raw)
    return ctx


@pytest.mark.slow
def test_run_reads_the_raw_table_in_chunks(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialscore.steps import transform as step

    raw = hostile_raw(200, keep_raw=False)
    ctx = context_with_raw(project_dir, raw)
    monkeypatch.setattr(step, "CHUNK_ROWS", 16)
    seen: list[int] = []
    real = step.prepare_rows
    monkeypatch.setattr(step, "prepare_rows", lambda frame, c: seen.append(len(frame)) or real(frame, c))
    run(ctx)
    assert seen and max(seen) <= 16  # the raw table is never whole in memory
    expected = transform(raw, ctx.settings.transform)
    pd.testing.assert_frame_equal(pd.read_parquet(ctx.location("clean")), expected.clean)
    assert ctx.facts["rows_in"] == 200 and ctx.facts["rows_kept"] == expected.report["rows_kept"]
