"""The compiled batch path (numba tokeniser, hash kernel on encoded tokens, text statistics) gives the
Python path's features bit for bit, hostile Unicode and engineered block included."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from socialscore.modeling.featurizers import hash_kernel, hashing
from socialscore.modeling.featurizers.engineered import (
    engineered_batch,
    engineered_features,
    known_placeholders,
)
from socialscore.modeling.featurizers.hashing import HashingFeaturizer
from socialscore.storage.synthetic import generate_example
from socialscore.text.preprocess import TextPreprocessor

needs_numba = pytest.mark.skipif(not hash_kernel.compiled_available(), reason="numba is not importable")
BITS = 16
HOSTILE = json.loads((Path(__file__).parents[1] / "text" / "hostile_texts.json").read_text(encoding="utf-8"))
EXTRA = [
    "[URL] [url] [EMAIL]x [Person] [USER_NAME] hi!!! ?? ... ?!.!? !. ..!! a!b?c",
    "WHY?!?! Noooo... yesss!!!! zzzZZZ aaaAAA",
    "idiot idio idiots idiotsx f*ck f*c sh*t shitty a ass asses ässes zzz aaa 1d10t",  # lexicon neighbours
    "  \t padded text with spaces?!  \n",
    "NUL \x00 inside: the batch falls back to per-text tokens",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return generate_example(200, seed=5)["comment_text"].tolist() + HOSTILE + EXTRA


def same_bits(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data.view(np.uint32), b.data.view(np.uint32))
    )


@needs_numba
@pytest.mark.parametrize("batch_rows", [4096, 7])
def test_compiled_batches_equal_the_python_path_bit_for_bit(monkeypatch, texts: list[str], batch_rows: int) -> None:
    monkeypatch.setattr(hashing, "_BATCH", batch_rows)
    fast = HashingFeaturizer(hash_bits=BITS, min_df=1)
    slow = HashingFeaturizer(hash_bits=BITS, min_df=1, compiled=False)
    assert fast._compiled_kernel() is not None and slow._compiled_kernel() is None
    assert same_bits(fast.fit_transform(texts[:150]), slow.fit_transform(texts[:150]))
    assert same_bits(fast.transform(texts[150:]), slow.transform(texts[150:]))
    assert same_bits(fast.transform(texts[150:151]), slow.transform(texts[150:151]))


@needs_numba
def test_engineered_batch_equals_engineered_features(texts: list[str]) -> None:
    pre = TextPreprocessor()
    clean = [t for t in texts if "\x00" not in t]
    batch = pre.token_batch(clean)
    placeholders = known_placeholders()
    slow = engineered_features(clean, [pre.tokens(t) for t in clean], placeholders)
    fast = engineered_batch(clean, batch, placeholders, hashing.LEXICON)
    assert np.array_equal(fast.view(np.uint32), slow.view(np.uint32))
    assert fast[:, 2:10].any(axis=0).all()  # the texts exercise "!", "?", runs, elongations, placeholders, lexicon


@needs_numba
def test_unpickling_runs_the_compiled_path_before_the_first_text(monkeypatch, texts: list[str]) -> None:
    fast = HashingFeaturizer(hash_bits=BITS).fit(texts[:50])
    slow = HashingFeaturizer(hash_bits=BITS, compiled=False).fit(texts[:50])
    calls = []
    real = TextPreprocessor.token_batch
    monkeypatch.setattr(TextPreprocessor, "token_batch", lambda self, t: calls.append(t) or real(self, t))
    pickle.loads(pickle.dumps(fast))
    assert len(calls) == 1  # the tokeniser, its table and every kernel a request uses
    pickle.loads(pickle.dumps(slow))
    assert len(calls) == 1


@needs_numba
@pytest.mark.parametrize("sublinear_tf", [True, False])
def test_compiled_weighing_equals_numpys_bit_for_bit(sublinear_tf: bool) -> None:
    rng = np.random.default_rng(3)
    n_buckets, lengths = 1 << 12, [0, 1, 7, 8, 9, 127, 128, 129, 300, 1000, 2049]
    rows = [np.sort(rng.choice(n_buckets, size=n, replace=False)) for n in lengths]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    counts = sp.csr_matrix(
        (rng.integers(1, 40, indptr[-1]).astype(np.float32), np.concatenate(rows).astype(np.int32), indptr),
        shape=(len(lengths), n_buckets),
    )
    idf = np.exp(rng.uniform(-7, 7, n_buckets)).astype(np.float32)  # a wide range: summation order shows
    idf[rng.random(n_buckets) < 0.2] = 0.0  # masked buckets
    fast = hashing.weigh_block(counts, idf, sublinear_tf, compiled=True)
    slow = hashing.weigh_block(counts, idf, sublinear_tf, compiled=False)
    assert same_bits(fast, slow)


@pytest.mark.slow
@needs_numba
@pytest.mark.parametrize("n_buckets", [1 << BITS, 1000])  # the mask and the modulo
def test_compiled_counts_with_many_distinct_tokens_equal_the_python_path(n_buckets: int) -> None:
    rng = np.random.default_rng(5)
    words = ["".join(rng.choice(list("abcdéfghij€𝄞"), size=rng.integers(1, 12))) for _ in range(4000)]
    docs = [list(rng.choice(words, size=rng.integers(0, 60))) for _ in range(400)]  # the token cache grows
    fast = hash_kernel.count_hashed(docs, (1, 2), (2, 5), n_buckets, compiled=True)
    slow = hash_kernel.count_hashed(docs, (1, 2), (2, 5), n_buckets, compiled=False)
    for a, b in ((fast.word, slow.word), (fast.char, slow.char)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@needs_numba
def test_engineered_batch_equals_engineered_features_on_long_texts() -> None:
    texts = ["word!! " * 12000, "x" * 70000 + "?", "short [URL] text!!!"]  # lengths past the log1p table
    pre = TextPreprocessor()
    slow = engineered_features(texts, [pre.tokens(t) for t in texts], known_placeholders())
    fast = engineered_batch(texts, pre.token_batch(texts), known_placeholders(), hashing.LEXICON)
    assert np.array_equal(fast.view(np.uint32), slow.view(np.uint32))


FIRST_REQUEST = """
import pickle, sys
from socialscore.modeling.featurizers import hash_numba
from socialscore.text import token_numba

kernels = [hash_numba.count_batch, hash_numba.weigh_rows, token_numba.tokenise, token_numba.engineered_rows]
featurizer = pickle.loads(open(sys.argv[1], "rb").read())
before = [len(k.signatures) for k in kernels]
featurizer.transform(["the first request, you 1d10t!!"])
featurizer.transform(["one", "batch [URL]"])
print([len(k.signatures) for k in kernels] == before)
"""


@pytest.mark.slow
@needs_numba
def test_a_fresh_process_compiles_nothing_for_its_first_request(tmp_path, texts: list[str]) -> None:
    import subprocess
    import sys

    path = tmp_path / "featurizer.pkl"
    path.write_bytes(pickle.dumps(HashingFeaturizer(hash_bits=BITS).fit(texts[:50])))
    done = subprocess.run([sys.executable, "-c", FIRST_REQUEST, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"  # every kernel specialisation was loaded at unpickling (warm_up)
