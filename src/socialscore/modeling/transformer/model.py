"""The served models: :class:`TransformerModel` (ONNX encoder + head, Platt-calibrated per label) and
:class:`CascadeModel` (the linear model for every text, the transformer for its uncertain band).

Both read texts, not the featurizer's matrix (``reads_texts``); the scoring pipeline hands them the
cleaned texts and, when ``needs_features``, the featurizer's output. Stored as plain JSON + arrays
(the ONNX graph and the tokenizer as bytes) in the pipeline's sha256-checked files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from socialscore.config import SERVE_BATCH_SIZE
from socialscore.errors import ModelError
from socialscore.modeling.training.estimators import SocialScoreModel
from socialscore.modeling.transformer.weights import LICENCE_FILE, licence_text

NO_EXPLANATION = "model type {kind} has no explanations: it has no per-term weights (use a linear model.type)"


@dataclass
class TransformerModel:
    """The exported encoder + head; ``predict_proba_texts`` gives calibrated probabilities per label."""

    labels: list[str]
    primary_label: str
    params: dict[str, Any]
    onnx_bytes: bytes
    tokenizer_json: str
    max_length: int
    precision: str = "int8"  # int8 | fp32: which export is served
    threshold: float = 0.5
    fallbacks: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # base weights, licence, training history

    model_type = "transformer"
    reads_texts = True
    needs_features = False

    def __post_init__(self) -> None:
        if self.primary_label not in self.labels:
            raise ModelError(f"primary label {self.primary_label!r} is not one of the labels {self.labels}")
        self._scorer = None

    @property
    def scorer(self):
        if self._scorer is None:
            from socialscore.modeling.transformer.runtime import OnnxScorer

            batch = int(self.params.get("onnx_batch_size", SERVE_BATCH_SIZE))  # older models: the default
            self._scorer = OnnxScorer(self.onnx_bytes, self.tokenizer_json, self.max_length, batch,
                                      int(self.params.get("onnx_threads", 1)))
            if self._scorer.n_outputs != len(self.labels):
                raise ModelError(f"the ONNX model gives {self._scorer.n_outputs} scores for {len(self.labels)} labels")
        return self._scorer

    def __getstate__(self) -> dict[str, Any]:  # the ONNX Runtime session is rebuilt on first use
        return {**self.__dict__, "_scorer": None}

    def raw_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self.scorer.raw_scores(texts)

    def predict_proba_texts(self, texts: Sequence[str], features: Any = None) -> np.ndarray:
        return self.calibrated(self.raw_texts(texts))

    # the linear model's Platt scaling, per label, on held-out raw scores
    calibrate = SocialScoreModel.calibrate
    calibrated = SocialScoreModel.calibrated

    def feature_importance(self, label: str) -> np.ndarray:
        return np.zeros(0)

    def explain_refusal(self) -> str:
        return NO_EXPLANATION.format(kind=self.model_type)

    def companion_files(self) -> dict[str, bytes]:
        """Stored beside the model: the base weights' licence."""
        return {LICENCE_FILE: licence_text().encode("utf-8")}

    # --- state ----------------------------------------------------------------------------------
    def to_state(self, part_state: Any = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {
            "model_type": self.model_type, "labels": list(self.labels), "primary_label": self.primary_label,
            "params": dict(self.params), "max_length": int(self.max_length), "precision": self.precision,
            "threshold": float(self.threshold), "fallbacks": dict(self.fallbacks),
            "calibration": {k: [float(a), float(b)] for k, (a, b) in self.calibration.items()},
            "info": self.info,
        }
        arrays = {"onnx": np.frombuffer(self.onnx_bytes, dtype=np.uint8),
                  "tokenizer": np.frombuffer(self.tokenizer_json.encode("utf-8"), dtype=np.uint8)}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                   part_from_state: Any = None) -> TransformerModel:
        return cls(
            labels=list(meta["labels"]), primary_label=meta["primary_label"], params=dict(meta["params"]),
            onnx_bytes=np.asarray(arrays["onnx"], dtype=np.uint8).tobytes(),
            tokenizer_json=np.asarray(arrays["tokenizer"], dtype=np.uint8).tobytes().decode("utf-8"),
            max_length=int(meta["max_length"]), precision=str(meta["precision"]),
            threshold=float(meta["threshold"]), fallbacks=dict(meta["fallbacks"]),
            calibration={k: (float(v[0]), float(v[1])) for k, v in meta["calibration"].items()},
            info=dict(meta.get("info") or {}),
        )


@dataclass
class CascadeModel:
    """The linear model scores every text; texts whose primary-label score lies within ``band`` (in
    log-odds) of the linear threshold are scored again, every label, by the transformer."""

    linear: SocialScoreModel
    transformer: TransformerModel
    linear_threshold: float  # the linear model's own primary-label threshold (the band's centre)
    band: float  # half-width in log-odds; chosen out of fold for ``target_share`` of the texts
    target_share: float
    threshold: float = 0.5
    fallbacks: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    model_type = "cascade"
    reads_texts = True
    needs_features = True

    @property
    def labels(self) -> list[str]:
        return list(self.linear.labels)

    @property
    def primary_label(self) -> str:
        return self.linear.primary_label

    @property
    def params(self) -> dict[str, Any]:
        return {**self.linear.params, "cascade_share": self.target_share}

    @property
    def calibration(self) -> dict[str, tuple[float, float]]:
        return dict(self.linear.calibration)  # the transformer keeps its own in its state

    def routed(self, linear_proba: np.ndarray) -> np.ndarray:
        """Which texts go to the transformer, from the linear model's calibrated probabilities."""
        p = np.clip(linear_proba[:, self.labels.index(self.primary_label)], 1e-12, 1 - 1e-12)
        return np.abs(_logit(p) - _logit(self.linear_threshold)) <= self.band

    def predict_proba_texts(self, texts: Sequence[str], features: Any) -> np.ndarray:
        proba = np.asarray(self.linear.predict_proba(features), dtype=float)
        chosen = np.flatnonzero(self.routed(proba))
        if chosen.size:
            proba[chosen] = self.transformer.predict_proba_texts([texts[i] for i in chosen])
        return proba

    def feature_importance(self, label: str) -> np.ndarray:
        return self.linear.feature_importance(label)

    def held_out_summary(self, pipeline: Any, texts: Sequence[str], y_true: np.ndarray) -> dict[str, Any]:
        return cascade_summary(self, pipeline, texts, y_true)

    def explain_refusal(self) -> str:
        return NO_EXPLANATION.format(kind=self.model_type)

    def companion_files(self) -> dict[str, bytes]:
        return self.transformer.companion_files()

    def to_state(self, part_state: Any = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``part_state``: the linear part's serialiser (``scorer.serialize.model_state``, passed in by it)."""
        l_meta, l_arrays = part_state(self.linear)
        t_meta, t_arrays = self.transformer.to_state()
        meta = {"model_type": self.model_type, "labels": self.labels, "primary_label": self.primary_label,
                "linear_threshold": float(self.linear_threshold), "band": float(self.band),
                "target_share": float(self.target_share), "threshold": float(self.threshold),
                "fallbacks": dict(self.fallbacks), "info": self.info, "linear": l_meta, "transformer": t_meta}
        arrays = {f"linear__{k}": v for k, v in l_arrays.items()}
        arrays.update({f"transformer__{k}": v for k, v in t_arrays.items()})
        return meta, arrays

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                   part_from_state: Any = None) -> CascadeModel:
        """``part_from_state``: the linear part's loader (``scorer.serialize.model_from_state``)."""
        part = {p: {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{p}__")}
                for p in ("linear", "transformer")}
        return cls(
            linear=part_from_state(meta["linear"], part["linear"]),
            transformer=TransformerModel.from_state(meta["transformer"], part["transformer"]),
            linear_threshold=float(meta["linear_threshold"]), band=float(meta["band"]),
            target_share=float(meta["target_share"]), threshold=float(meta["threshold"]),
            fallbacks=dict(meta["fallbacks"]), info=dict(meta.get("info") or {}),
        )


def text_model_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], part_from_state: Any) -> Any:
    kinds = {"transformer": TransformerModel, "cascade": CascadeModel}
    return kinds[meta["model_type"]].from_state(meta, arrays, part_from_state)


def choose_band(linear_proba_primary: np.ndarray, linear_threshold: float, share: float) -> float:
    """The half-width (log-odds) around the linear threshold that holds ``share`` of these texts."""
    p = np.clip(np.asarray(linear_proba_primary, dtype=float), 1e-12, 1 - 1e-12)
    distance = np.abs(_logit(p) - _logit(linear_threshold))
    if share <= 0 or distance.size == 0:
        return -1.0  # nothing routed
    if share >= 1:
        return float(np.inf)
    return float(np.quantile(distance, share))


def _logit(p: Any) -> Any:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def cascade_summary(model: CascadeModel, pipeline: Any, texts: Sequence[str], y_true: np.ndarray) -> dict[str, Any]:
    """On held-out texts: the share routed to the transformer and each part's metrics alone (at its own
    thresholds), so the report shows what the cascade buys."""
    from socialscore.modeling.training.metrics import compute_metrics

    features = pipeline.featurizer.transform(list(texts))
    linear = np.asarray(model.linear.predict_proba(features), dtype=float)
    routed = model.routed(linear)
    transformer = model.transformer.predict_proba_texts(list(texts))
    labels = model.labels
    linear_cuts = model.info.get("linear_thresholds") or {lb: model.linear_threshold for lb in labels}
    transformer_cuts = model.info.get("transformer_thresholds") or {lb: model.transformer.threshold for lb in labels}
    return {
        "routed_share": float(np.mean(routed)) if len(routed) else None,
        "target_share": model.target_share,
        "linear": compute_metrics(y_true, linear, labels, linear_cuts)["macro"],
        "transformer": compute_metrics(y_true, transformer, labels, transformer_cuts)["macro"],
        "linear_labels": compute_metrics(y_true, linear, labels, linear_cuts)["labels"],
        "transformer_labels": compute_metrics(y_true, transformer, labels, transformer_cuts)["labels"],
    }
