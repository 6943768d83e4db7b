"""The vocabulary featurizer's compiled transform (vocabulary look-up tables in the hash kernel, a token
cache kept across calls, one sparse build) gives its Python path's features bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from test_hashing_compiled import EXTRA, HOSTILE, needs_numba, same_bits

from socialscore.modeling.featurizers import features, hash_kernel
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.storage.synthetic import generate_example
from socialscore.text.preprocess import NO_NUMBA_ENV


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return generate_example(300, seed=11)["comment_text"].tolist() + HOSTILE + EXTRA


@pytest.fixture(scope="module")
def builder(texts: list[str]) -> FeatureBuilder:
    return FeatureBuilder(min_df=2, word_max_features=2000, char_max_features=3000).fit(texts[:200])


def python_path(builder: FeatureBuilder, texts: list[str], monkeypatch: pytest.MonkeyPatch) -> sp.csr_matrix:
    with monkeypatch.context() as patch:
        patch.setenv(NO_NUMBA_ENV, "1")
        assert builder._transform_compiled(texts) is None
        return builder.transform(texts)


@needs_numba
@pytest.mark.parametrize("batch_rows", [4096, 7])
def test_compiled_transform_equals_the_python_path(monkeypatch, builder, texts: list[str], batch_rows: int) -> None:
    monkeypatch.setattr(features, "_BATCH", batch_rows)
    unseen = texts[200:] + ["zzqx qqzz unseenword", "", "a", "the the the the"]
    assert builder._transform_compiled(unseen[:3]) is not None  # the compiled path does run here
    assert same_bits(builder.transform(unseen), python_path(builder, unseen, monkeypatch))
    for text in unseen[:40]:  # one per call, the token cache warm from the calls before
        assert same_bits(builder.transform([text]), python_path(builder, [text], monkeypatch))


@needs_numba
def test_token_cache_starts_again_past_its_limit_and_is_never_pickled(monkeypatch, builder, texts) -> None:
    monkeypatch.setattr(hash_kernel.TokenCache, "LIMIT", 5)
    expected = python_path(builder, texts[200:260], monkeypatch)
    assert same_bits(builder.transform(texts[200:260]), expected)
    assert same_bits(builder.transform(texts[200:260]), expected)  # cleared before this call: same bits
    copy = pickle.loads(pickle.dumps(builder))
    assert "_token_cache" not in copy.__dict__ and "_tables" not in copy.__dict__
    assert same_bits(copy.transform(texts[200:260]), expected)


@needs_numba
def test_refitting_drops_the_old_vocabularys_tables(texts: list[str]) -> None:
    builder = FeatureBuilder(min_df=1).fit(texts[:50])
    builder.transform(texts[50:60])
    refitted = builder.fit_transform(texts[60:120])
    fresh = FeatureBuilder(min_df=1).fit_transform(texts[60:120])
    assert same_bits(refitted, fresh)
    assert same_bits(builder.transform(texts[:10]), FeatureBuilder(min_df=1).fit(texts[60:120]).transform(texts[:10]))


def test_vocabulary_table_finds_every_gram_and_nothing_else() -> None:
    if not hash_kernel.compiled_available():
        pytest.skip("numba is not importable")
    from socialscore.modeling.featurizers.hash_numba import _column

    grams = ["ab", " a ", "ünï", "x y", "", "ab "]
    table = hash_kernel.vocabulary_table(grams)
    for column, gram in enumerate(grams):
        buf = np.frombuffer(gram.encode() + b"#", np.uint8)
        assert _column(buf, 0, len(gram.encode()), 1, table) == column
    for absent in ("a", "abc", "b", "ünï "):
        buf = np.frombuffer(absent.encode(), np.uint8)
        assert _column(buf, 0, len(buf), 1, table) == -1
    empty = hash_kernel.vocabulary_table([])
    assert _column(np.frombuffer(b"ab", np.uint8), 0, 2, 1, empty) == -1  # an empty vocabulary is not hashing
