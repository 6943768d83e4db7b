"""predict: input resolution, chunked scoring of any CSV or the test split, bad inputs, flat memory."""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stand_ins import export_for_serving, register_for_step, small_pipeline

from socialscore.config import load_settings
from socialscore.errors import DataError, ModelError
from socialscore.layout import Layout
from socialscore.pipeline.context import StepContext
from socialscore.registry.serving import load_served
from socialscore.steps import predict as step

LABELS = ["toxic", "insult"]
BAD = ["idiot", "stupid", "moron", "hate", "loser"]
GOOD = ["thanks", "great", "agree", "nice", "cheers"]
COLUMNS = [
    "id",
    "toxicity",
    "p_toxic",
    "p_insult",
    "is_toxic",
    "social_score",
    "risk_level",
    "language",
    "reliable",
    "model_version",
]


def corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for _ in range(n):
        toxic = rng.random() < 0.4
        words = list(rng.choice(BAD if toxic else GOOD, 3))
        texts.append(" ".join(words))
        y.append([toxic, toxic and "idiot" in words])
    return texts, np.asarray(y, dtype=np.int8)


@pytest.fixture(scope="module")
def fitted():
    texts, y = corpus(300)
    return small_pipeline(texts, y, LABELS, "v1")


@pytest.fixture
def models_dir(tmp_path: Path, fitted) -> Path:
    return export_for_serving(fitted, tmp_path / "models")


def served(models_dir: Path):
    return step.served_loader(models_dir)


class FakeDatabase:
    """Just what predict needs from db.Database; records the chunks it was handed."""

    def __init__(self, tables: dict[str, pd.DataFrame] | None = None) -> None:
        self.tables = dict(tables or {})
        self.chunk_sizes: list[int] = []
        self.chunk_reads: list[int] = []

    engine = None  # make_ctx gives it a SQLite engine: the model registry is real

    def describe(self) -> str:
        return "a fake database"

    def table_exists(self, name: str) -> bool:
        return name in self.tables

    def _rows(self, name: str, columns=None, where_split=None) -> pd.DataFrame:
        table = self.tables[name]
        table = table if where_split is None else table[table["split"] == where_split]
        return table[columns or list(table.columns)].copy()

    def read_table(self, name: str, columns=None, where_split=None) -> pd.DataFrame:
        return self._rows(name, columns, where_split)

    def read_table_chunks(self, name: str, columns=None, *, chunk_rows: int, where_split=None):
        self.chunk_reads.append(chunk_rows)
        table = self._rows(name, columns, where_split)
        for start in range(0, len(table), chunk_rows):
            yield table.iloc[start : start + chunk_rows]

    def replace_table_from_chunks(self, name: str, chunks) -> None:
        parts = []
        for chunk in chunks:
            self.chunk_sizes.append(len(chunk))
            parts.append(chunk)
        self.tables[name] = pd.concat(parts, ignore_index=True)


def write_csv(path: Path, frame: pd.DataFrame, **kwargs) -> Path:
    frame.to_csv(path, index=False, **kwargs)
    return path


# --- resolve_input ------------------------------------------------------------------------------
def test_resolve_input_order(project_dir: Path) -> None:
    layout = Layout(project_dir, "dev")
    assert step.resolve_input(layout, load_settings("dev", project_dir)) is None
    layout.ensure()
    layout.prod_input.write_text("text\nhello\n")
    assert step.resolve_input(layout, load_settings("dev", project_dir)) == layout.prod_input
    (project_dir / "mine.csv").write_text("text\nhi\n")
    settings = load_settings("dev", project_dir, [{"predict": {"input": "mine.csv"}}])
    assert step.resolve_input(layout, settings) == project_dir / "mine.csv"
    missing = load_settings("dev", project_dir, [{"predict": {"input": "nope.csv"}}])
    with pytest.raises(DataError, match="nope.csv does not exist"):
        step.resolve_input(layout, missing)


# --- predict_file -------------------------------------------------------------------------------
def test_predict_file_scores_like_the_api(tmp_path: Path, models_dir: Path) -> None:
    texts, _ = corpus(50, seed=3)
    source = write_csv(tmp_path / "in.csv", pd.DataFrame({"id": range(50), "comment_text": texts}))
    report = step.predict_file(source, tmp_path / "out.csv", served(models_dir), chunk_size=7)
    out = pd.read_csv(tmp_path / "out.csv")
    assert report.rows == 50 and list(out.columns) == COLUMNS
    assert out["id"].tolist() == list(range(50))
    expected = load_served(models_dir).score(texts)
    np.testing.assert_allclose(out["toxicity"], expected.toxicity, atol=1e-6)
    assert out["social_score"].tolist() == expected.social_score.tolist()
    assert out["risk_level"].tolist() == list(expected.risk)
    assert out["is_toxic"].tolist() == expected.is_toxic.tolist()
    assert set(out["model_version"]) == {"v1"}


def test_predict_with_no_model_says_to_run_train(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", pd.DataFrame({"text": ["hello"]}))
    with pytest.raises(ModelError, match="socialscore run --mode prod"):
        step.predict_file(source, tmp_path / "out.csv", served(tmp_path / "no-models"))
    assert not (tmp_path / "out.csv").exists()


def test_empty_input_file_is_a_clear_error(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        step.predict_file(tmp_path / "empty.csv", tmp_path / "out.csv", served(models_dir))


def test_header_only_input_gives_header_only_output(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "header.csv").write_text("id,text\n")
    report = step.predict_file(tmp_path / "header.csv", tmp_path / "out.csv", served(models_dir))
    assert report.rows == 0
    assert (tmp_path / "out.csv").read_text().strip() == ",".join(COLUMNS)


def test_empty_emoji_and_huge_texts_are_scored_and_kept(tmp_path: Path, models_dir: Path) -> None:
    texts = ["", "😡🤬💩", "idiot " * 1_700, "   ", "fine", ""]
    assert len(texts[2]) >= 10_000
    source = write_csv(
        tmp_path / "in.csv", pd.DataFrame({"id": [f"r{i}" for i in range(6)], "text": texts})
    )
    step.predict_file(source, tmp_path / "out.csv", served(models_dir), chunk_size=4)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["id"].tolist() == [f"r{i}" for i in range(6)]  # no row lost, order kept
    assert out["toxicity"].between(0, 1).all() and out["social_score"].between(0, 100).all()
    assert out.loc[0, "toxicity"] == out.loc[5, "toxicity"]  # empty text: one defined answer
    assert out.loc[2, "toxicity"] > out.loc[4, "toxicity"]


def test_text_column_detection_and_errors(tmp_path: Path, models_dir: Path) -> None:
    frame = pd.DataFrame({"Tweet": ["you idiot", "thanks"], "other": ["a", "b"]})
    source = write_csv(tmp_path / "tweets.tsv", frame, sep="\t")
    assert step.predict_file(source, tmp_path / "a.csv", served(models_dir)).rows == 2
    assert pd.read_csv(tmp_path / "a.csv")["id"].tolist() == [0, 1]  # row numbers when no id column
    odd = write_csv(tmp_path / "odd.csv", pd.DataFrame({"words": ["x"], "who": ["y"]}))
    with pytest.raises(DataError, match="no text column.*words, who"):
        step.predict_file(odd, tmp_path / "b.csv", served(models_dir))
    assert step.predict_file(odd, tmp_path / "b.csv", served(models_dir), text_column="words").rows == 1
    with pytest.raises(DataError, match="no text column 'nope'"):
        step.predict_file(odd, tmp_path / "b.csv", served(models_dir), text_column="nope")


def test_latin1_input_and_formula_ids_are_safe(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "latin.csv").write_bytes(
        "id,text\n=cmd|' /C calc'!A0,café idiot\n+1,ok\n".encode("latin-1")
    )
    step.predict_file(tmp_path / "latin.csv", tmp_path / "out.csv", served(models_dir))
    raw = (tmp_path / "out.csv").read_text()
    assert "\n'=cmd|" in raw and "\n'+1," in raw
    assert "\n=" not in raw and "\n+" not in raw


@pytest.mark.parametrize("body", ["1,ok\n2,too,many,fields\n", "2,too,many\n1,ok\n"])
def test_malformed_row_is_a_clear_error_and_leaves_no_output(
    tmp_path: Path, models_dir: Path, body: str
) -> None:
    (tmp_path / "bad.csv").write_text("id,text\n" + body)
    with pytest.raises(DataError, match="malformed CSV"):
        step.predict_file(tmp_path / "bad.csv", tmp_path / "out.csv", served(models_dir), chunk_size=1)
    assert not (tmp_path / "out.csv").exists()
    assert list(tmp_path.glob(".out.csv.*")) == []  # the temporary file is gone too


def _peak_bytes(tmp_path: Path, models_dir: Path, rows: int, chunk_size: int) -> int:
    texts, _ = corpus(rows, seed=5)
    padded = [f"{text} {'x' * 300}" for text in texts]  # bytes past pandas' read buffer quickly
    source = tmp_path / f"in{rows}.csv"
    if not source.exists():
        write_csv(source, pd.DataFrame({"id": range(rows), "text": padded}))
    tracemalloc.start()
    try:
        step.predict_file(source, tmp_path / "out.csv", served(models_dir), chunk_size=chunk_size)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_input(tmp_path: Path, models_dir: Path) -> None:
    small = _peak_bytes(tmp_path, models_dir, 2_000, chunk_size=200)
    large = _peak_bytes(tmp_path, models_dir, 6_000, chunk_size=200)
    assert large < 1.2 * small, (small, large)  # 3× the rows, the same peak
    # the probe is sensitive: the same file scored in one chunk does need more memory
    unchunked = _peak_bytes(tmp_path, models_dir, 6_000, chunk_size=6_000)
    assert unchunked > 1.5 * small, (small, unchunked)


# --- the step through a context -----------------------------------------------------------------
def make_ctx(project_dir: Path, fitted, db: FakeDatabase, **predict) -> StepContext:
    settings = load_settings("dev", project_dir, [{"predict": predict}] if predict else None)
    layout = Layout(project_dir, "dev")
    layout.ensure()
    ctx = StepContext(
        "predict", settings, layout, logging.getLogger("test"), database_factory=lambda: db
    )
    import sqlalchemy as sa

    if isinstance(db, FakeDatabase):
        db.engine = sa.create_engine(f"sqlite:///{layout.sqlite_path}")  # the registry's tables
    register_for_step(fitted, ctx.registry, Path(ctx.location("model_metadata")))
    return ctx


def test_run_scores_only_the_test_split(project_dir: Path, fitted) -> None:
    texts, _ = corpus(40, seed=7)
    comments = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(40)],
            "text": texts,
            "split": ["test", "train", "train", "train"] * 10,
        }
    )
    db = FakeDatabase({"comments_dev": comments})
    ctx = make_ctx(project_dir, fitted, db, chunk_size=3)
    step.run(ctx)
    csv = pd.read_csv(ctx.location("predictions"), dtype={"id": str})
    table = db.tables["predictions_dev"]
    assert csv["id"].tolist() == table["id"].tolist() == [f"c{i}" for i in range(0, 40, 4)]
    assert list(table.columns) == COLUMNS
    np.testing.assert_allclose(csv["toxicity"], table["toxicity"])
    assert db.chunk_sizes == [3, 3, 3, 1] and ctx.facts["rows"] == 10


def test_run_reads_the_test_split_in_chunks(project_dir: Path, fitted, monkeypatch) -> None:
    """The test split is 1M texts at 5M comments: never read whole."""
    texts, _ = corpus(12, seed=7)
    comments = pd.DataFrame({"id": [f"c{i}" for i in range(12)], "text": texts, "split": ["test", "train"] * 6})
    db = FakeDatabase({"comments_dev": comments})

    def whole(*args, **kwargs):
        raise AssertionError("the comments table was read whole")

    monkeypatch.setattr(db, "read_table", whole)
    ctx = make_ctx(project_dir, fitted, db, chunk_size=4)
    step.run(ctx)
    assert db.chunk_reads == [4] and db.tables["predictions_dev"]["id"].tolist() == [f"c{i}" for i in range(0, 12, 2)]


def test_run_scores_prod_csv_when_present(project_dir: Path, fitted) -> None:
    db = FakeDatabase()
    ctx = make_ctx(project_dir, fitted, db, chunk_size=2)
    write_csv(ctx.layout.prod_input, pd.DataFrame({"anonymized_comment": ["idiot", "", "nice"]}))
    step.run(ctx)
    assert ctx.facts == {"rows": 3, "source": "prod.csv"}
    assert db.tables["predictions_dev"]["id"].tolist() == ["0", "1", "2"]


def test_run_with_an_empty_prod_csv_still_writes_the_table(project_dir: Path, fitted) -> None:
    db = FakeDatabase()
    ctx = make_ctx(project_dir, fitted, db)
    ctx.layout.prod_input.write_text("text\n")
    step.run(ctx)
    assert (
        list(db.tables["predictions_dev"].columns) == COLUMNS
        and len(db.tables["predictions_dev"]) == 0
    )


def test_run_refuses_a_tampered_model(project_dir: Path, fitted) -> None:
    ctx = make_ctx(project_dir, fitted, FakeDatabase())
    with open(Path(ctx.location("model")) / "vocab.json", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelError, match="does not match"):
        step.run(ctx)


# --- the step with the real database (embedded SQLite, and PostgreSQL when available) ------------
def _run_against(project_dir: Path, fitted, database) -> pd.DataFrame:
    texts, _ = corpus(30, seed=9)
    texts[0] = '=HYPERLINK("http://x")'  # formula-like text is never written to the outputs
    comments = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(30)],
            "text": texts,
            "split": ["test", "train", "train"] * 10,
        }
    )
    ctx = make_ctx(project_dir, fitted, database, chunk_size=4)
    database.replace_table(ctx.location("comments"), comments)
    step.run(ctx)
    table = database.read_table(ctx.location("predictions_table"))
    csv = pd.read_csv(ctx.location("predictions"), dtype={"id": str})
    assert table["id"].tolist() == csv["id"].tolist() == [f"c{i}" for i in range(0, 30, 3)]
    assert list(table.columns) == COLUMNS
    np.testing.assert_allclose(table["toxicity"].astype(float), csv["toxicity"])
    assert "HYPERLINK" not in Path(ctx.location("predictions")).read_text()
    return table


def test_run_writes_the_predictions_table_in_sqlite(project_dir: Path, fitted) -> None:
    from socialscore.storage.db.database import Database

    settings = load_settings("dev", project_dir)
    _run_against(project_dir, fitted, Database.from_settings(settings, Layout.for_settings(settings, project_dir)))


@pytest.mark.postgres
def test_run_writes_the_predictions_table_in_postgres(
    project_dir: Path, fitted, postgres_url: str
) -> None:
    from socialscore.storage.db.database import Database

    settings = load_settings("dev", project_dir, [{"database": {"url": postgres_url}}])
    database = Database.from_settings(settings, Layout.for_settings(settings, project_dir))
    try:
        _run_against(project_dir, fitted, database)
    finally:  # the server is shared with other tests
        from socialscore.registry.store import versions

        with database.engine.begin() as conn:
            conn.execute(versions.delete().where(versions.c.version == fitted.version))
        database.drop_table("comments_dev")
        database.drop_table("predictions_dev")
        database.close()


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_high_risk_cut_must_be_a_probability(project_dir: Path, bad: float) -> None:
    from socialscore.errors import ConfigError

    with pytest.raises(ConfigError, match="predict.high_risk"):
        load_settings("dev", project_dir, [{"predict": {"high_risk": bad}}])


# --- predict reads files the way extract does (ingest.decoding) ---------------------------------
@pytest.mark.parametrize(
    "name, payload",
    [
        ("mixed.csv", "text\ncafé au lait\n".encode() + "naïve idiot\n".encode("cp1252")),
        ("sjis.csv", "text\nこんにちは、ばか\n".encode("shift_jis") * 20),
        ("utf16.csv", "text\nhello there\nyou idiot\n".encode("utf-16-le")),
        ("cp1252.csv", "text\ncafé crème you idiot\nthanks\n".encode("cp1252")),
    ],
)
def test_predict_decodes_like_extract(tmp_path: Path, models_dir: Path, name: str, payload: bytes) -> None:
    from socialscore.errors import DataError
    from socialscore.storage.datasets import read_table

    source = tmp_path / name
    source.write_bytes(payload)
    try:
        expected = read_table(source).frame["text"].tolist()
    except DataError as exc:  # extract refuses it: predict must refuse it with the same words
        with pytest.raises(DataError) as caught:
            step.predict_file(source, tmp_path / "out.csv", served(models_dir))
        assert str(caught.value).split(":")[0] == str(exc).split(":")[0]
        assert not (tmp_path / "out.csv").exists()
        return
    texts = [t for chunk in step.read_text_chunks(source, None, 100) for t in chunk["text"]]
    assert texts == expected
