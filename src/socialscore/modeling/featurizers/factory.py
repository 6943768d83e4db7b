"""Which featurizer the settings name (``features.vectorizer``), built and checked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialscore.modeling.featurizers.base import Featurizer


def featurizer_from_settings(settings: Any, nltk_cache_dir: Path | None = None, n_rows: int | None = None) -> Featurizer:
    """The featurizer ``features.vectorizer`` names: ``hashing`` or the fitted ``vocabulary``; ``auto``
    picks by ``n_rows`` (the comments to featurize; None: unknown, e.g. Beam → hashing)."""
    if resolved_vectorizer(settings.features, n_rows) == "hashing":
        from socialscore.modeling.featurizers.hashing import HashingFeaturizer

        return HashingFeaturizer.from_settings(settings, nltk_cache_dir)
    from socialscore.modeling.featurizers.features import FeatureBuilder

    return FeatureBuilder.from_settings(settings, nltk_cache_dir)


def resolved_vectorizer(features: Any, n_rows: int | None) -> str:
    """``vocabulary`` or ``hashing``: ``auto`` is vocabulary below ``auto_hashing_rows`` known rows,
    where it scored higher on short texts at equal cost, and hashing above (streamable, any worker)."""
    if features.vectorizer != "auto":
        return features.vectorizer
    small = n_rows is not None and n_rows < features.auto_hashing_rows
    return "vocabulary" if small else "hashing"
