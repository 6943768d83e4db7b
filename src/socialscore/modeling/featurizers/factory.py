"""Which featurizer the settings name (``features.vectorizer``), built and checked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialscore.modeling.featurizers.base import Featurizer


def featurizer_from_settings(settings: Any, nltk_cache_dir: Path | None = None) -> Featurizer:
    """The featurizer ``features.vectorizer`` names: ``hashing`` or the fitted ``vocabulary``."""
    if settings.features.vectorizer == "hashing":
        from socialscore.modeling.featurizers.hashing import HashingFeaturizer

        return HashingFeaturizer.from_settings(settings, nltk_cache_dir)
    from socialscore.modeling.featurizers.features import FeatureBuilder

    return FeatureBuilder.from_settings(settings, nltk_cache_dir)
