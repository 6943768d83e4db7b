"""What every featurizer is: the ``Featurizer`` protocol and the parameter checks its ``fit`` makes.

A featurizer turns raw texts into a CSR float32 matrix: the fitted-vocabulary ``FeatureBuilder``
(features.py) or the stateless-per-text ``HashingFeaturizer`` (hashing.py). As in scikit-learn's
developer guide, ``__init__`` only stores parameters; they are checked by ``fit`` (and by
``from_settings``, so a bad config fails before any data is read), and ``fitted_`` exists only once
the featurizer is fitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from socialscore.errors import ConfigError

if TYPE_CHECKING:
    import scipy.sparse as sp


@runtime_checkable
class Featurizer(Protocol):
    """Raw texts in, a CSR float32 matrix out; fitted on the training texts only."""

    n_jobs: int  # worker processes for big inputs (1: in this process, as the API wants)

    def fit(self, texts: Iterable[str], y: Any = None) -> Featurizer: ...

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> sp.csr_matrix: ...

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix: ...

    def required_resources(self) -> list[str]:
        """The NLTK resources its preprocessing needs (checked before a run, never downloaded)."""
        ...


def is_fitted(featurizer: Any) -> bool:
    return bool(getattr(featurizer, "fitted_", False))


def check_parameters(featurizer: Any) -> None:
    """The checks every featurizer's ``fit`` makes: n-gram ranges, and at least one kind of feature."""
    for name in ("word_ngram_range", "char_ngram_range"):
        value = getattr(featurizer, name)
        if value and not 1 <= value[0] <= value[1]:
            raise ConfigError(f"features.{name} {list(value)} must be [low, high] with 1 <= low <= high")
    if not (featurizer.word_ngram_range or featurizer.char_ngram_range or featurizer.engineered):
        raise ConfigError("no features configured: enable word or char n-grams or engineered features")
