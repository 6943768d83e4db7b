"""features: FeatureBuilder (sklearn parity, pickling, one text = batch) and the step's outputs."""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from model_corpus import make_comments
from sklearn.feature_extraction.text import TfidfVectorizer

from socialscore.config import load_settings
from socialscore.errors import ConfigError, DataError
from socialscore.layout import Layout
from socialscore.modeling.behaviour.probes import augmentation_sentences
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.modeling.featurizers.tfidf import CharNgramTfidf, WordNgramTfidf
from socialscore.modeling.training.out_of_core_blocks import NpzBlocks, gather
from socialscore.pipeline.context import StepContext
from socialscore.steps import features as step
from socialscore.steps import features_rows as rows_module
from socialscore.text.preprocess import TextPreprocessor


class FakeDatabase:
    """In-memory tables; the model registry gets a real SQLite file (``engine``) beside them."""

    def __init__(self, tables: dict[str, pd.DataFrame], sqlite_path: Path | None = None) -> None:
        self.tables = tables
        self.sqlite_path = sqlite_path

    @property
    def engine(self):
        from socialscore.storage.db.database import Database

        return Database.from_url(f"sqlite:///{self.sqlite_path}").engine

    def describe(self) -> str:
        return f"SQLite {self.sqlite_path}"

    def table_exists(self, name: str) -> bool:
        return name in self.tables

    def read_table(self, name: str, **kwargs) -> pd.DataFrame:
        return self.tables[name].copy()

    def _written(self):
        """The tables in a real SQLite database (the file beside), for the chunked reads."""
        from socialscore.storage.db.database import Database

        db = Database.from_url(f"sqlite:///{self.sqlite_path}")
        for name, frame in self.tables.items():
            if not db.table_exists(name):
                db.replace_table(name, frame)
        return db

    def table_columns(self, name: str) -> list[str]:
        return self._written().table_columns(name)

    def read_table_chunks(self, name: str, *args, **kwargs):
        return self._written().read_table_chunks(name, *args, **kwargs)


def make_context(project_dir: Path, comments: pd.DataFrame | None, **overrides) -> StepContext:
    settings = load_settings("dev", project_dir, overrides=[overrides] if overrides else None)
    layout = Layout(project_dir, "dev")
    tables = {} if comments is None else {layout.comments_table(): comments}
    return StepContext("features", settings, layout, logging.getLogger("test"), database_factory=lambda: FakeDatabase(tables, layout.sqlite_path))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return make_comments(200, seed=1)["text"].tolist()


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (WordNgramTfidf((1, 2), 300, 2, True), dict(token_pattern=r"\S+", ngram_range=(1, 2), max_features=300)),
        (CharNgramTfidf((2, 4), 500, 2, True), dict(analyzer="char_wb", ngram_range=(2, 4), max_features=500)),
    ],
)
def test_ngram_tfidf_matches_sklearn(ours, reference, texts: list[str]) -> None:
    pre = TextPreprocessor()
    tokens = [pre.tokens(t) for t in texts]
    joined = [" ".join(t) for t in tokens]
    ref = TfidfVectorizer(lowercase=False, min_df=2, sublinear_tf=True, **reference)
    fitted = ours.fit_transform(tokens[:150])
    expected = ref.fit_transform(joined[:150])
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    assert abs(fitted - expected).max() < 1e-5
    assert abs(ours.transform(tokens[150:]) - ref.transform(joined[150:])).max() < 1e-5


def test_feature_builder_shapes_names_and_dtype(texts: list[str]) -> None:
    builder = FeatureBuilder(word_max_features=100, char_max_features=200)
    X = builder.fit_transform(texts)
    names = builder.get_feature_names_out()
    assert sp.isspmatrix_csr(X) and X.dtype == np.float32
    assert X.shape == (len(texts), len(names)) == (len(texts), builder.n_features_)
    assert sum(n.startswith("word__") for n in names) == 100
    assert sum(n.startswith("char__") for n in names) == 200
    assert "eng__lexicon_hits" in names and "eng__placeholder_url" in names
    assert np.all(X.toarray()[:, -len(builder.engineered_names()) :] <= 1.0 + 1e-6)
    assert np.allclose(builder.transform(texts).toarray(), X.toarray(), atol=1e-6)


def test_one_text_equals_its_row_in_a_batch_and_survives_pickling(texts: list[str]) -> None:
    builder = FeatureBuilder().fit(texts)
    clone = pickle.loads(pickle.dumps(builder))
    batch = clone.transform(texts[:20] + ["", "🙂", "x" * 10_000]).toarray()
    assert np.allclose(builder.transform([texts[3]]).toarray()[0], batch[3], atol=1e-6)
    assert not batch[20].any()  # the empty text has no features at all
    assert np.isfinite(batch).all()


@pytest.mark.slow
def test_worker_processes_give_the_same_features(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting in 2 processes (vocabularies merged) equals counting in one, for fit and transform."""
    import socialscore.modeling.featurizers.features as features_module

    monkeypatch.setattr(features_module, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(features_module, "_effective_jobs", lambda n_jobs: 1 if n_jobs == 1 else 2)
    parts_made: list[int] = []
    map_parts = features_module._map_parts
    monkeypatch.setattr(
        features_module, "_map_parts", lambda *args: parts_made.append(len(out := map_parts(*args))) or out
    )
    serial, parallel = FeatureBuilder(n_jobs=1), FeatureBuilder(n_jobs=2)
    x_serial, x_parallel = serial.fit_transform(texts[:150]), parallel.fit_transform(texts[:150])
    assert list(parallel.get_feature_names_out()) == list(serial.get_feature_names_out())
    assert abs(x_parallel - x_serial).max() == 0
    assert abs(parallel.transform(texts[150:]) - serial.transform(texts[150:])).max() == 0
    assert sorted(parts_made) == [1, 1, 2, 2]  # fit and transform, each once serial and once in 2 parts
    assert pickle.loads(pickle.dumps(parallel)).n_jobs == 1  # the API never starts worker processes


def test_case_and_trailing_space_do_not_change_features(texts: list[str]) -> None:
    builder = FeatureBuilder().fit(texts)
    X = builder.transform(["You are an IDIOT  ", "you are an idiot"]).toarray()
    assert np.allclose(X[0], X[1])


def test_configurable_blocks(texts: list[str]) -> None:
    words_only = FeatureBuilder(char_ngram_range=None, engineered=False).fit(texts)
    assert all(n.startswith("word__") for n in words_only.get_feature_names_out())
    with pytest.raises(ConfigError, match="no features"):
        FeatureBuilder(word_ngram_range=None, char_ngram_range=None, engineered=False).fit(texts)
    with pytest.raises(ConfigError, match="char_ngram_range"):
        FeatureBuilder(char_ngram_range=(5, 2)).fit(texts)


def test_build_features_fits_on_train_only() -> None:
    comments = make_comments(120, seed=2)
    test_ids = comments.index[comments["split"] == "test"]
    comments.loc[test_ids, "text"] = comments.loc[test_ids, "text"] + " zyxwvut zyxwvut"
    assert "word__zyxwvut" in set(FeatureBuilder(min_df=1).fit(comments["text"]).get_feature_names_out())
    builder = FeatureBuilder(min_df=1)
    X, y, rows, meta = step.build_features(comments, builder)
    assert "word__zyxwvut" not in set(builder.get_feature_names_out())
    assert list(rows["split"]) == sorted(rows["split"], key=lambda s: s != "train")
    assert meta["split_sizes"] == {"train": int((comments.split == "train").sum()), "test": len(test_ids)}
    assert meta["labels"] == ["toxic", "insult", "threat"]
    assert y.dtype == np.int8 and y.shape == (120, 3) and X.shape[0] == 120
    by_id = comments.set_index("id")
    assert (y[:, 0] == by_id.loc[rows["id"], "label_toxic"].to_numpy()).all()


def test_bad_comments_tables() -> None:
    comments = make_comments(40)
    with pytest.raises(DataError, match="label_"):
        step.build_features(comments.drop(columns=["label_toxic", "label_insult", "label_threat"]), FeatureBuilder())
    with pytest.raises(DataError, match="train split"):
        step.build_features(comments.assign(split="test"), FeatureBuilder())


@pytest.mark.slow
def test_step_writes_every_artifact(project_dir: Path) -> None:
    comments = make_comments(150, seed=3)
    ctx = make_context(project_dir, comments)
    step.run(ctx)
    X = gather(ctx.read("features"))
    rows, labels, meta = ctx.read("rows"), ctx.read("labels"), ctx.read("features_metadata")
    vectorizer = ctx.read("vectorizer")
    n = 150 + len(augmentation_sentences())  # features.identity_augmentation: 1 (the default)
    assert X.shape == (n, meta["feature_names_count"]) == (n, len(vectorizer.get_feature_names_out()))
    assert labels.shape == (n, 3) and list(rows.columns) == ["id", "split"]
    augmented = rows["id"].str.startswith("augment-").to_numpy()
    assert (rows["split"][augmented] == "train").all() and not labels[augmented].any()
    assert (rows["split"] == "test").sum() == (comments["split"] == "test").sum()
    assert meta["preprocessing"]["tokenizer"] == "regex" and meta["nltk_resources"] == []
    assert len(meta["input_hash"]) == 64
    position = int(np.flatnonzero(~augmented)[0])
    text = comments.set_index("id").loc[rows["id"].iloc[position], "text"]
    assert np.allclose(vectorizer.transform([text]).toarray()[0], X[position].toarray()[0], atol=1e-6)
    assert ctx.facts["rows"] == n and ctx.facts["features"] == X.shape[1]


@pytest.mark.slow
def test_streamed_blocks_equal_the_whole_matrix(tmp_path: Path) -> None:
    comments = make_comments(230, seed=5)
    X, y, rows, meta = step.build_features(comments, HashingFeaturizer(hash_bits=12, min_df=2))
    streamed = HashingFeaturizer(hash_bits=12, min_df=2)
    blocks, described = step.stream_features(rows_module.FrameRows(comments, 0.0, 40), streamed, tmp_path)
    parts = list(blocks)
    y2, rows2, meta2 = described()
    n_train = meta["split_sizes"]["train"]
    # train chunks of 40 rows, then the test rows in chunks of their own (a block never straddles the split)
    assert [b.shape[0] for b in parts][: n_train // 40] == [40] * (n_train // 40)
    assert sum(b.shape[0] for b in parts[: -(-n_train // 40)]) == n_train
    assert (sp.vstack(parts, format="csr") != X).nnz == 0
    np.testing.assert_array_equal(y, y2)
    pd.testing.assert_frame_equal(rows, rows2)
    assert meta2["feature_groups"] == meta["feature_groups"] and meta2["input_hash"] == meta["input_hash"]
    assert not list(tmp_path.glob("counts_*"))  # the scratch counts are removed as they are used


@pytest.mark.slow
def test_the_hashing_step_writes_row_blocks(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socialscore.modeling.training.out_of_core_blocks as blocks_module

    monkeypatch.setattr(blocks_module, "DEFAULT_BLOCK_ROWS", 32)
    comments = make_comments(150, seed=3)
    ctx = make_context(
        project_dir, comments, features={"vectorizer": "hashing", "hash_bits": 12, "identity_augmentation": 0}
    )
    step.run(ctx)
    blocks = ctx.read("features")
    assert isinstance(blocks, NpzBlocks) and len(blocks.starts) > 3
    meta = ctx.read("features_metadata")
    assert meta["shape"] == [blocks.n_rows, blocks.n_features] and meta["nnz"] == blocks.nnz
    rows = ctx.read("rows")
    from socialscore.modeling.featurizers.factory import featurizer_from_settings

    whole = featurizer_from_settings(ctx.settings)
    ordered = comments.set_index("id").loc[rows["id"]]
    n_train = int((rows["split"] == "train").sum())
    expected = sp.vstack(
        [whole.fit_transform(ordered["text"].iloc[:n_train].tolist()), whole.transform(ordered["text"].iloc[n_train:].tolist())]
    )
    assert abs(gather(blocks) - expected).max() < 1e-6
    assert not list(Path(ctx.layout.processed_dir).glob(".feature-counts-*"))


def test_input_hash_follows_content() -> None:
    comments = make_comments(30)
    same = rows_module.input_hash(comments)
    assert rows_module.input_hash(comments.copy()) == same
    changed = comments.copy()
    changed.loc[0, "label_toxic"] = 1 - changed.loc[0, "label_toxic"]
    assert rows_module.input_hash(changed) != same


def test_stacking_in_row_chunks_equals_hstack(monkeypatch: pytest.MonkeyPatch) -> None:
    import socialscore.modeling.featurizers.features as features_module

    rng = np.random.default_rng(3)
    blocks = [sp.random(53, width, density=0.2, format="csr", dtype=np.float32, random_state=rng) for width in (7, 40, 3)]
    blocks[1].data[blocks[1].indptr[5] : blocks[1].indptr[6]] = 0  # an empty row in one block
    blocks[1].eliminate_zeros()
    monkeypatch.setattr(features_module, "_STACK_ROWS", 10)
    stacked = features_module._stack(blocks)
    expected = sp.hstack(blocks, format="csr", dtype=np.float32)
    assert stacked.shape == expected.shape and stacked.dtype == np.float32
    assert abs(stacked - expected).max() == 0 and stacked.nnz == expected.nnz


@pytest.mark.slow
def test_release_memory_stops_the_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil
    from joblib import Parallel, delayed

    Parallel(n_jobs=2, backend="loky")(delayed(abs)(i) for i in range(4))
    me = psutil.Process()
    assert any("loky" in " ".join(c.cmdline()) for c in me.children(recursive=True))
    step.release_memory()
    assert not any("LokyProcess" in " ".join(c.cmdline()) for c in me.children(recursive=True) if c.is_running())


@pytest.mark.slow
@pytest.mark.parametrize("chunk_rows", [7, 50_000])
@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_input_hash_by_id_equals_hashing_the_rows_sorted_by_id(
    text_dtype: object, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The features metadata's input_hash is unchanged by computing it in row chunks, without a
    sorted copy."""
    monkeypatch.setattr(rows_module, "HASH_CHUNK_ROWS", chunk_rows)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "id": [f"r{i:03d}" for i in rng.permutation(300)],
        "text": [f"comment number {i} é" for i in range(300)],
        "split": rng.choice(["train", "test"], 300),
        "label_toxic": rng.integers(0, 2, 300),
    })
    frame["text"] = frame["text"].astype(text_dtype)
    sorted_copy = frame.sort_values("id", kind="stable").astype({"text": str})
    expected = hashlib.sha256(
        pd.util.hash_pandas_object(sorted_copy[["id", "text", "split", "label_toxic"]].astype(str), index=False)
        .to_numpy().tobytes()
    ).hexdigest()
    assert rows_module.input_hash_by_id(frame) == expected == rows_module.input_hash(frame.sort_values("id", kind="stable"))


def test_a_column_of_python_strings_is_not_copied_for_hashing() -> None:
    texts = pd.Series(["a", "b", "c"], dtype=object)
    assert rows_module.as_strings(texts) is texts
    assert rows_module.as_strings(pd.Series([1, 2])).tolist() == ["1", "2"]
