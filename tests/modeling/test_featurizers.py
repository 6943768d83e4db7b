"""One featurizer concept: both featurizers follow the ``Featurizer`` protocol and scikit-learn's rule
that ``__init__`` only stores parameters (checked in ``fit`` and ``from_settings``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialscore.config import load_settings
from socialscore.errors import ConfigError
from socialscore.modeling.featurizers.base import Featurizer, is_fitted
from socialscore.modeling.featurizers.factory import featurizer_from_settings
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.featurizers.hashing import HashingFeaturizer

TEXTS = ["you are an idiot", "have a nice day", "what an idiot you are", "nice work today"] * 3
BAD = [
    ({"char_ngram_range": (5, 2)}, "char_ngram_range"),
    ({"word_ngram_range": None, "char_ngram_range": None, "engineered": False}, "no features"),
]


@pytest.mark.parametrize("cls", [FeatureBuilder, HashingFeaturizer])
@pytest.mark.parametrize("params, message", BAD, ids=["range", "nothing"])
def test_init_only_stores_and_fit_checks(cls: type, params: dict, message: str) -> None:
    featurizer = cls(**params)  # no check, no raise, nothing fitted
    assert not hasattr(featurizer, "fitted_") and not is_fitted(featurizer)
    with pytest.raises(ConfigError, match=message):
        featurizer.fit(TEXTS)


def test_hash_bits_are_checked_in_fit() -> None:
    with pytest.raises(ConfigError, match="hash_bits"):
        HashingFeaturizer(hash_bits=30).fit(TEXTS)


@pytest.mark.parametrize("vectorizer, cls", [("hashing", HashingFeaturizer), ("vocabulary", FeatureBuilder)])
def test_the_factory_builds_what_the_config_names_and_checks_it(
    project_dir: Path, vectorizer: str, cls: type
) -> None:
    settings = load_settings("dev", project_dir, [{"features": {"vectorizer": vectorizer}}])
    featurizer = featurizer_from_settings(settings)
    assert type(featurizer) is cls and isinstance(featurizer, Featurizer)
    bad = load_settings("dev", project_dir, [{"features": {"vectorizer": vectorizer, "char_ngram_range": [5, 2]}}])
    with pytest.raises(ConfigError, match="char_ngram_range"):
        featurizer_from_settings(bad)


def test_the_config_default_is_the_factory_default(project_dir: Path) -> None:
    assert isinstance(featurizer_from_settings(load_settings("dev", project_dir)), HashingFeaturizer)


@pytest.mark.parametrize("cls", [FeatureBuilder, HashingFeaturizer])
def test_a_fitted_featurizer_follows_the_protocol(cls: type) -> None:
    featurizer = cls(engineered=False).fit(TEXTS)
    assert is_fitted(featurizer) and isinstance(featurizer, Featurizer)
    assert featurizer.transform(TEXTS[:2]).shape[0] == 2
    assert isinstance(featurizer.required_resources(), list)
