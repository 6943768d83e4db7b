"""Featurizers and models as plain JSON + arrays: loading a model never runs code from the file.

``*_state(obj) -> (meta, arrays)`` gives a JSON-able dict and named numpy arrays;
``*_from_state(meta, arrays)`` rebuilds the object. Arrays are stored with ``np.savez_compressed`` and read with
``allow_pickle=False``. The one estimator that is not plain arrays (``random_forest``) is stored with
``skops.io`` and loaded only when every type it names is on :data:`TRUSTED_FOREST_TYPES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from socialscore.errors import ModelError

FEATURIZER_VOCABULARY = "vocabulary"
TRUSTED_FOREST_TYPES = frozenset(
    {
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._tree.Tree",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.int64",
        "numpy.float64",
        "builtins.slice",
    }
)


# --- featurizers --------------------------------------------------------------------------------
def featurizer_state(featurizer: Any) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, list[str]]]:
    """(meta, arrays, vocabularies) of a fitted featurizer."""
    if isinstance(featurizer, DeferredFeaturizer) and featurizer.built is None:
        return featurizer.state
    if hasattr(featurizer, "to_state"):  # featurizers that define their own state (e.g. hashing)
        meta, arrays = featurizer.to_state()
        return {"kind": meta.get("kind", type(featurizer).__name__), **meta}, arrays, {}
    from socialscore.modeling.featurizers.base import is_fitted
    from socialscore.modeling.featurizers.features import FeatureBuilder

    if not isinstance(featurizer, FeatureBuilder) or not is_fitted(featurizer):
        raise ModelError(f"cannot store a {type(featurizer).__name__}: not a fitted featurizer")
    meta: dict[str, Any] = {
        "kind": FEATURIZER_VOCABULARY,
        "preprocess": dict(featurizer.preprocessor.settings),
        "word_ngram_range": featurizer.word_ngram_range,
        "word_max_features": featurizer.word_max_features,
        "char_ngram_range": featurizer.char_ngram_range,
        "char_max_features": featurizer.char_max_features,
        "min_df": featurizer.min_df,
        "sublinear_tf": featurizer.sublinear_tf,
        "engineered": featurizer.engineered,
        "placeholders": list(getattr(featurizer, "placeholders_", ())),
        "lexicon": sorted(featurizer.__dict__.get("lexicon", ())),
    }
    arrays: dict[str, np.ndarray] = {}
    vocabularies: dict[str, list[str]] = {}
    for name in ("word", "char"):
        vectoriser = getattr(featurizer, f"{name}_")
        if vectoriser is None:
            continue
        vocabularies[name] = [str(g) for g in vectoriser.get_feature_names_out()]
        arrays[f"{name}_idf"] = np.asarray(vectoriser.idf_, dtype=np.float32)
    if featurizer.engineered:
        arrays["eng_scale"] = np.asarray(featurizer.eng_scale_, dtype=np.float32)
    return meta, arrays, vocabularies


def featurizer_from_state(
    meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], vocabularies: Mapping[str, list[str]]
) -> Any:
    kind = meta.get("kind")
    if kind != FEATURIZER_VOCABULARY:
        return _external_featurizer(kind, meta, arrays)
    from socialscore.modeling.featurizers.features import FeatureBuilder
    from socialscore.modeling.featurizers.tfidf import CharNgramTfidf, WordNgramTfidf

    builder = FeatureBuilder(
        preprocess=dict(meta["preprocess"]),
        word_ngram_range=_pair(meta["word_ngram_range"]),
        word_max_features=meta["word_max_features"],
        char_ngram_range=_pair(meta["char_ngram_range"]),
        char_max_features=meta["char_max_features"],
        min_df=int(meta["min_df"]),
        sublinear_tf=bool(meta["sublinear_tf"]),
        engineered=bool(meta["engineered"]),
        lexicon=frozenset(meta["lexicon"]) if meta.get("lexicon") else None,
    )
    builder.word_ = builder.char_ = None
    for name, cls in (("word", WordNgramTfidf), ("char", CharNgramTfidf)):
        ngram_range = getattr(builder, f"{name}_ngram_range")
        if ngram_range is None:
            continue
        vectoriser = cls(ngram_range, getattr(builder, f"{name}_max_features"), builder.min_df, builder.sublinear_tf)
        grams = vocabularies[name]
        vectoriser.vocabulary_ = {g: i for i, g in enumerate(grams)}
        vectoriser.idf_ = np.asarray(arrays[f"{name}_idf"], dtype=np.float32)
        if len(vectoriser.idf_) != len(grams):
            raise ModelError(f"{name} vocabulary ({len(grams)}) and idf ({len(vectoriser.idf_)}) disagree")
        vectoriser._after_fit()
        setattr(builder, f"{name}_", vectoriser)
    if builder.engineered:
        builder.placeholders_ = tuple(meta["placeholders"])
        builder.eng_scale_ = np.asarray(arrays["eng_scale"], dtype=np.float32)
    builder.fitted_ = True
    return builder


class DeferredFeaturizer:
    """A stored featurizer built on first use: a model that never reads features (a transformer) is
    served without the featurizer's tables, token cache and kernels. Every attribute but
    ``required_resources`` (read from the stored settings) is the built featurizer's own."""

    def __init__(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], vocabularies: Mapping[str, list[str]]):
        self.__dict__.update(state=(dict(meta), dict(arrays), dict(vocabularies)), built=None)

    def required_resources(self) -> list[str]:
        from socialscore.text.preprocess import TextPreprocessor

        return TextPreprocessor(self.state[0].get("preprocess")).required_resources()

    def build(self) -> Any:
        if self.built is None:
            self.__dict__["built"] = featurizer_from_state(*self.state)
        return self.built

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("state", "built"):  # copy/pickle probes before __init__
            raise AttributeError(name)
        return getattr(self.build(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.build(), name, value)


def _external_featurizer(kind: Any, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    featurizers = _registered_featurizers()
    if kind not in featurizers:
        raise ModelError(f"unknown featurizer kind {kind!r} in the model file")
    return featurizers[kind].from_state(dict(meta), arrays)


def _registered_featurizers() -> dict[str, Any]:
    """Featurizer classes with their own ``to_state``/``from_state``, by kind."""
    found: dict[str, Any] = {}
    from socialscore.modeling.featurizers.hashing import STATE_KIND, HashingFeaturizer

    found[STATE_KIND] = HashingFeaturizer
    return found


def _pair(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))


# --- models -------------------------------------------------------------------------------------
def model_state(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a fitted :class:`socialscore.modeling.training.estimators.SocialScoreModel` (or of a model
    that defines its own ``to_state``: socialscore.modeling.transformer)."""
    if hasattr(model, "to_state"):
        return model.to_state(model_state)
    meta = {
        "model_type": model.model_type,
        "labels": list(model.labels),
        "primary_label": model.primary_label,
        "params": dict(model.params),
        "threshold": float(model.threshold),
        "fallbacks": dict(model.fallbacks),
        "calibration": {k: [float(a), float(b)] for k, (a, b) in model.calibration.items()},
        "n_features": int(model.n_features_),
        "forest_labels": sorted(int(j) for j in model.trees_),
    }
    arrays = {
        "coef": np.asarray(model.coef_, dtype=np.float32),
        "intercept": np.asarray(model.intercept_, dtype=np.float64),
        "priors": np.asarray(model.priors_, dtype=np.float64),
    }
    for j, forest in model.trees_.items():
        import skops.io as sio

        arrays[f"forest_{j}_selected"] = np.asarray(forest.selected_, dtype=np.int64)
        arrays[f"forest_{j}_skops"] = np.frombuffer(sio.dumps(forest.forest_), dtype=np.uint8)
    return meta, arrays


def model_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    from socialscore.modeling.training.estimators import SocialScoreModel
    from socialscore.modeling.transformer import TEXT_MODEL_TYPES

    if meta.get("model_type") in TEXT_MODEL_TYPES:
        from socialscore.modeling.transformer.model import text_model_from_state

        return text_model_from_state(meta, arrays, model_from_state)

    model = SocialScoreModel(
        meta["model_type"], list(meta["labels"]), meta["primary_label"], dict(meta["params"]),
        threshold=float(meta["threshold"]), fallbacks=dict(meta["fallbacks"]),
        calibration={k: (float(v[0]), float(v[1])) for k, v in meta["calibration"].items()},
    )
    model.n_features_ = int(meta["n_features"])
    model.coef_ = np.asarray(arrays["coef"], dtype=np.float32)
    model.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
    model.priors_ = np.asarray(arrays["priors"], dtype=np.float64)
    if model.coef_.shape != (model.n_features_, len(model.labels)):
        raise ModelError(f"model weights have shape {model.coef_.shape}, expected ({model.n_features_}, labels)")
    model.estimators_ = {}
    model.trees_ = {int(j): _forest_from_state(model, int(j), arrays) for j in meta.get("forest_labels", [])}
    return model


def _forest_from_state(model: Any, j: int, arrays: Mapping[str, np.ndarray]) -> Any:
    try:
        import skops.io as sio
        import sklearn.tree  # noqa: F401  (the forest's trees)
    except ImportError as exc:
        raise ModelError(
            f"a random_forest model needs scikit-learn and skops, which this install lacks ({exc.name}): the "
            "serving image's `serve` dependency group leaves them out; serve it from the full install"
        ) from None

    from socialscore.modeling.training.estimators import _Forest

    data = np.asarray(arrays[f"forest_{j}_skops"], dtype=np.uint8).tobytes()
    untrusted = set(sio.get_untrusted_types(data=data))
    refused = sorted(untrusted - TRUSTED_FOREST_TYPES)
    if refused:
        raise ModelError(f"the stored forest names types that are not trusted: {', '.join(refused)}")
    forest = _Forest(model.params)
    forest.forest_ = sio.loads(data, trusted=sorted(untrusted))
    forest.selected_ = np.asarray(arrays[f"forest_{j}_selected"], dtype=np.int64)
    forest.n_features_in_ = model.n_features_
    return forest
