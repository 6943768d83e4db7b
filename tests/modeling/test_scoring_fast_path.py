"""The compiled scoring path gives the reference Python path's results on a fixed text set.

The fast path: language detection in one numba call per batch (modeling/behaviour/language_numba.py) and the
hashing featurizer's transform as compiled passes with one sparse build (hashing.py). The reference:
py3langid itself (``compiled=False``) and the featurizer's Python path (``compiled=False``).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
from tiny_bundle import LABELS, _samples  # noqa: E402

from socialscore.modeling.behaviour import language  # noqa: E402
from socialscore.modeling.behaviour.language import LanguageProfile, detect_languages, reliable  # noqa: E402
from socialscore.modeling.behaviour.language_numba import FEATURE_MAJOR_MIN_TEXTS, widenable  # noqa: E402

FIXED_TEXTS = [
    "Thanks for the edit, that section reads much better now.",
    "You are an idiot and nobody wants you here!!!",
    "YOU ARE A STUPID CLOWN",
    "  you   stupid\tclown and\n idiot  ",
    "ｙｏｕ ｓｔｕｐｉｄ ｃｌｏｗｎ",
    "you stu\u200bpid cl\u200cown",
    "email me at jane.doe@example.com you idiot",
    "call 555-123-4567 you moron, or visit example.org",
    "Ты идиот",
    "Это полная чушь, ты ничего не понимаешь",
    "バカじゃないの",
    "Das ist völliger Unsinn, du Idiot.",
    "C'est n'importe quoi, espèce d'imbécile.",
    "Esto es una tontería, idiota.",
    "🙂🙂 123",
    "",
    "lol",
    "a" * 700,
    "[PERSON] said the [ORG] article was sooooo bad?!?!",
    "the the the the the the the the",
    "Ελληνικά κείμενα εδώ",
    "مرحبا كيف حالك",
]


@pytest.fixture(scope="module")
def pipeline():
    from socialscore.modeling.training.estimators import SocialScoreModel
    from socialscore.modeling.featurizers.hashing import HashingFeaturizer
    from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules

    texts, targets = _samples(400, seed=7)
    featurizer = HashingFeaturizer(word_ngram_range=(1, 2), char_ngram_range=(2, 5), hash_bits=14, min_df=1)
    features = featurizer.fit_transform(TextRules().apply(texts))
    params = {"solver": "liblinear", "C": 4.0, "n_jobs": 1, "random_state": 0}
    model = SocialScoreModel("logistic_regression", LABELS, "toxic", params, threshold=0.5)
    model.fit(features, np.array(targets))
    profile = LanguageProfile.from_texts(texts).to_state()
    return ScoringPipeline(TextRules(), featurizer, model, {label: 0.5 for label in LABELS}, 0.7, languages=profile)


def reference_scores(pipeline, texts):
    """The scores by the Python path alone: py3langid and the featurizer's reference transform."""
    featurizer = copy.copy(pipeline.featurizer)
    featurizer.compiled = False
    cleaned = pipeline.clean(texts)
    scores = pipeline.scores(pipeline.proba_from_features(featurizer.transform(cleaned)))
    scores.language = detect_languages(cleaned, compiled=False)
    scores.reliable = reliable(scores.language, LanguageProfile.from_state(pipeline.languages))
    return scores


def test_compiled_language_detection_equals_py3langid_on_the_fixed_set():
    assert detect_languages(FIXED_TEXTS) == detect_languages(FIXED_TEXTS, compiled=False)


def test_the_batch_order_of_the_kernel_gives_the_same_tags_as_the_per_text_order():
    texts = FIXED_TEXTS * (FEATURE_MAJOR_MIN_TEXTS // len(FIXED_TEXTS) + 1)  # scored feature by feature
    assert len(texts) >= FEATURE_MAJOR_MIN_TEXTS
    per_text = [tag for text in texts for tag in detect_languages([text])]
    assert detect_languages(texts) == per_text == detect_languages(texts, compiled=False)


def test_fast_path_scores_equal_the_reference_path(pipeline):
    fast = pipeline.score(FIXED_TEXTS)
    reference = reference_scores(pipeline, FIXED_TEXTS)
    np.testing.assert_allclose(fast.probabilities, reference.probabilities, rtol=0, atol=1e-9)
    assert fast.language == reference.language
    assert (fast.reliable == reference.reliable).all()
    assert (fast.social_score == reference.social_score).all() and (fast.risk == reference.risk).all()


def test_one_text_per_call_scores_as_in_a_batch(pipeline):
    batch = pipeline.score(FIXED_TEXTS)
    for i, text in enumerate(FIXED_TEXTS):
        alone = pipeline.score([text])
        np.testing.assert_allclose(alone.probabilities[0], batch.probabilities[i], rtol=0, atol=1e-9)
        assert alone.language == [batch.language[i]]


def test_the_compiled_transform_is_one_csr_equal_to_the_reference_blocks(pipeline):
    featurizer = pipeline.featurizer
    cleaned = pipeline.clean(FIXED_TEXTS)
    fast = featurizer.transform(cleaned)
    reference = copy.copy(featurizer)
    reference.compiled = False
    expected = reference.transform(cleaned)
    assert fast.shape == expected.shape
    assert (fast != expected).nnz == 0
    assert fast.dtype == np.float32


def test_a_table_the_kernel_cannot_widen_exactly_falls_back_to_py3langid(monkeypatch):
    assert widenable(np.array([0x3C00, 0xC000], np.uint16))  # 1.0, -2.0
    assert not widenable(np.array([0x3C00, 0x0001], np.uint16))  # a subnormal
    assert not widenable(np.array([0x7C00], np.uint16))  # infinity
    monkeypatch.setattr(language, "_arrays", None)  # what KernelArrays.of gives for such a table
    called = []
    monkeypatch.setattr(language, "detect_language", lambda t: called.append(t) or "xx")
    assert detect_languages(["hello there", "Ты идиот"]) == ["xx", "xx"]
    assert called == ["hello there", "Ты идиот"]


def test_numba_switched_off_detects_with_py3langid(monkeypatch):
    from socialscore.text.preprocess import NO_NUMBA_ENV

    monkeypatch.setenv(NO_NUMBA_ENV, "1")
    called = []
    monkeypatch.setattr(language, "detect_language", lambda t: called.append(t) or "xx")
    assert detect_languages(["hello there"]) == ["xx"] and called == ["hello there"]
