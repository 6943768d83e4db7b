"""Hashing featurizer: sklearn parity, compiled = Python path, per-text independence, JSON+npz state."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.utils import murmurhash3_32

from socialscore.config import load_settings
from socialscore.errors import ConfigError
from socialscore.modeling.featurizers import hash_kernel
from socialscore.modeling.featurizers.factory import featurizer_from_settings
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.storage.synthetic import generate_example
from socialscore.text.preprocess import TextPreprocessor

BITS = 18
ODD = ["", "a", "ÿ€𝄞x", "naïve café", "[URL] you", "日本語のテキスト", "x" * 70, "it's f*ck", "ok\n\tthen   now"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return generate_example(300, seed=3)["comment_text"].tolist() + ODD


@pytest.fixture(scope="module")
def tokens(texts: list[str]) -> list[list[str]]:
    pre = TextPreprocessor()
    return [pre.tokens(t) for t in texts]


def csr(arrays: tuple[np.ndarray, ...], n_rows: int) -> sp.csr_matrix:
    indptr, indices, counts = arrays
    return sp.csr_matrix((counts, indices, indptr), shape=(n_rows, 1 << BITS))


needs_numba = pytest.mark.skipif(not hash_kernel.compiled_available(), reason="numba is not importable")


@needs_numba
def test_compiled_murmurhash_equals_sklearns() -> None:
    from socialscore.modeling.featurizers.hash_numba import murmur3_32

    rng = random.Random(0)
    alphabet = "ab€𝄞 ü"
    for _ in range(400):
        key = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 13))).encode("utf-8")
        buf = np.frombuffer(b"##" + key, dtype=np.uint8)
        assert murmur3_32(buf, 2, len(key)) == murmurhash3_32(key, seed=0, positive=False)


@pytest.mark.parametrize("compiled", [pytest.param(True, marks=needs_numba), False])
def test_counts_equal_sklearn_hashing_vectorizer(compiled: bool, tokens: list[list[str]]) -> None:
    """Word 1-2-grams of the tokens and char_wb 2-5-grams of the joined tokens, unsigned, unnormalised."""
    counted = hash_kernel.count_hashed(tokens, (1, 2), (2, 5), 1 << BITS, compiled=compiled)
    common = {"n_features": 1 << BITS, "alternate_sign": False, "norm": None, "lowercase": False}
    word = HashingVectorizer(analyzer=lambda toks: hash_kernel.word_grams(toks, (1, 2)), **common)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)
    expected_word = word.transform(tokens)
    expected_char = char.transform([" ".join(t) for t in tokens])
    got_word, got_char = csr(counted.word, len(tokens)), csr(counted.char, len(tokens))
    assert (got_word != expected_word).nnz == 0
    assert (got_char != expected_char).nnz == 0
    assert got_char.nnz > 10 * len(tokens)


@needs_numba
def test_compiled_and_python_paths_are_identical(tokens: list[list[str]]) -> None:
    rng = random.Random(1)
    docs = tokens + [[rng.choice(["a", "bb", "ccc€", "𝄞", "[USER]", "x" * 40, "a\ud800b"]) for _ in range(rng.randrange(30))] for _ in range(50)]
    for word_range, char_range in [((1, 2), (2, 5)), ((1, 3), None), (None, (1, 3)), ((2, 2), (3, 6))]:
        fast = hash_kernel.count_hashed(docs, word_range, char_range, 1 << BITS, compiled=True)
        slow = hash_kernel.count_hashed(docs, word_range, char_range, 1 << BITS, compiled=False)
        for a, b in ((fast.word, slow.word), (fast.char, slow.char)):
            assert (a is None) == (b is None)
            if a is not None:
                for x, y in zip(a, b, strict=True):
                    np.testing.assert_array_equal(x, y)


def test_env_var_forces_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hash_kernel.NO_NUMBA_ENV, "1")
    assert hash_kernel.compiled_available() is False
    called = []
    monkeypatch.setattr(hash_kernel, "_count_python", lambda *a: called.append(1) or "python")
    assert hash_kernel.count_hashed([["a"]], (1, 1), None, 16) == "python"
    assert called


@pytest.mark.parametrize("compiled", [pytest.param(True, marks=needs_numba), False])
def test_tfidf_equals_sklearn_on_hashed_counts(compiled: bool, texts: list[str], tokens: list[list[str]]) -> None:
    """min_df=1: HashingVectorizer counts + TfidfTransformer(sublinear, smooth idf, l2) per block."""
    feats = HashingFeaturizer(hash_bits=BITS, min_df=1, engineered=False, compiled=compiled)
    ours = feats.fit_transform(texts)
    common = {"n_features": 1 << BITS, "alternate_sign": False, "norm": None, "lowercase": False}
    toks = tokens
    word = HashingVectorizer(analyzer=lambda t: hash_kernel.word_grams(t, (1, 2)), **common).transform(toks)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common).transform([" ".join(t) for t in toks])
    for block, counts in ((ours[:, : 1 << BITS], word), (ours[:, 1 << BITS :], char)):
        expected = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
        assert abs(block - expected).max() < 1e-5


def test_min_df_masks_rare_buckets_and_rows_stay_unit_length(texts: list[str]) -> None:
    feats = HashingFeaturizer(hash_bits=BITS, min_df=3, engineered=False)
    X = feats.fit_transform(texts)
    df = np.bincount(X.indices, minlength=X.shape[1])
    assert df[df > 0].min() >= 3
    norms = np.sqrt(np.asarray(X[:, : 1 << BITS].multiply(X[:, : 1 << BITS]).sum(axis=1))).ravel()
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)


def test_output_for_a_text_is_independent_of_other_texts(texts: list[str]) -> None:
    feats = HashingFeaturizer(hash_bits=BITS).fit(texts[:200])
    batch = feats.transform(texts[200:])
    for i, text in enumerate(texts[200:]):
        assert (feats.transform([text]) != batch[i]).nnz == 0


def test_engineered_block_and_names_match_feature_builder(texts: list[str]) -> None:
    ours = HashingFeaturizer(hash_bits=BITS).fit(texts[:200])
    theirs = FeatureBuilder(n_jobs=1).fit(texts[:200])
    k = len(theirs.engineered_names())
    assert ours.engineered_names() == theirs.engineered_names()
    a, b = ours.transform(texts[200:]), theirs.transform(texts[200:])
    np.testing.assert_allclose(a[:, -k:].toarray(), b[:, -k:].toarray())
    names = ours.get_feature_names_out()
    assert len(names) == ours.n_features_ == a.shape[1] == 2 * (1 << BITS) + k
    assert list(names[-k:]) == list(theirs.get_feature_names_out()[-k:])
    named = {n for n in names if not n.endswith("}")}
    assert "word__the" in named and any(n.startswith("char__") for n in named)


def test_state_round_trips_through_json_and_npz(tmp_path, texts: list[str]) -> None:
    feats = HashingFeaturizer(hash_bits=BITS).fit(texts[:200])
    meta, arrays = feats.to_state()
    (tmp_path / "f.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "f.npz", **arrays)
    with np.load(tmp_path / "f.npz", allow_pickle=False) as loaded:
        again = HashingFeaturizer.from_state(json.loads((tmp_path / "f.json").read_text()), dict(loaded))
    assert (again.transform(texts[200:]) != feats.transform(texts[200:])).nnz == 0
    assert list(again.get_feature_names_out()) == list(feats.get_feature_names_out())
    with pytest.raises(ValueError, match="kind"):
        HashingFeaturizer.from_state({"kind": "other"}, arrays)


def test_python_path_gives_the_same_features_end_to_end(texts: list[str]) -> None:
    fast = HashingFeaturizer(hash_bits=BITS).fit_transform(texts)
    slow = HashingFeaturizer(hash_bits=BITS, compiled=False).fit_transform(texts)
    assert (fast != slow).nnz == 0


def test_settings_choose_the_featurizer(project_dir) -> None:
    hashing = load_settings("dev", project_dir, [{"features": {"vectorizer": "hashing", "hash_bits": 12}}])
    feats = featurizer_from_settings(hashing)
    assert isinstance(feats, HashingFeaturizer) and feats.n_buckets == 4096
    vocabulary = load_settings("dev", project_dir, [{"features": {"vectorizer": "vocabulary"}}])
    assert isinstance(featurizer_from_settings(vocabulary), FeatureBuilder)
    with pytest.raises(ConfigError, match="vectorizer"):
        load_settings("dev", project_dir, [{"features": {"vectorizer": "bag"}}])


def test_unpickling_loads_the_kernel_before_the_first_text(monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> None:
    import pickle

    feats = HashingFeaturizer(hash_bits=BITS).fit(texts[:50])
    calls = []
    real = hash_kernel.count_hashed
    monkeypatch.setattr("socialscore.modeling.featurizers.hashing.count_hashed", lambda *a: calls.append(a) or real(*a))
    again = pickle.loads(pickle.dumps(feats))
    assert calls and calls[0][0] == [["warm"]] and again.n_jobs == 1
