"""The scoring pipeline: every text rule from a raw comment to probabilities, flags and risk bands.

Training builds one :class:`ScoringPipeline`; evaluation, batch prediction, the API and the Vertex
components all call it, so a text is seen the same way everywhere: storage normalisation (Unicode
form, invisible characters, whitespace) and PII placeholders exactly as the transform step applies
them, then the featurizer (model preprocessing + features), the per-label models, calibration,
the per-label thresholds and the risk bands.

On disk a pipeline is three plain files (``pipeline.json``, ``arrays.npz``, ``vocab.json``), each
checked against a sha256 before it is read; nothing in them is executed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialscore.errors import ModelError
from socialscore.modeling.scorer.bundle_files import (
    ARRAYS_FILE,
    FILES,
    PIPELINE_FILE,
    VOCAB_FILE,
    verify_files,
)
from socialscore.modeling.scorer.scores import DEFAULT_HIGH_RISK, Scores, scores_from_probabilities

FORMAT = "socialscore-pipeline/1"


@dataclass(frozen=True)
class TextRules:
    """The storage rules of the transform step, applied to every text before it is featurized."""

    unicode_form: str = "NFKC"
    scrub_pii: bool = True

    def apply(self, texts: Sequence[Any]) -> list[str]:
        from socialscore.text.normalize import normalize_text
        from socialscore.text.pii import scrub

        cleaned = [normalize_text(t, self.unicode_form) for t in texts]
        return [scrub(t) for t in cleaned] if self.scrub_pii else cleaned


@dataclass
class ScoringPipeline:
    """Raw texts in, :class:`~socialscore.modeling.scorer.scores.Scores` out; built by training, stored as plain data."""

    rules: TextRules
    featurizer: Any
    model: Any  # socialscore.modeling.training.estimators.SocialScoreModel
    thresholds: dict[str, float]
    high_risk: float = DEFAULT_HIGH_RISK
    card: dict[str, Any] = field(default_factory=dict)  # version, training data, metrics: never used to score
    languages: dict[str, Any] | None = None  # the training texts' LanguageProfile state (None: not checked)

    def __post_init__(self) -> None:
        missing = [label for label in self.model.labels if label not in self.thresholds]
        if missing:
            raise ModelError(f"no decision threshold for label(s) {', '.join(missing)}")

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    @property
    def primary_label(self) -> str:
        return str(self.model.primary_label)

    @property
    def threshold(self) -> float:
        return float(self.thresholds[self.primary_label])

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unversioned"))

    @property
    def nltk_resources(self) -> list[str]:
        return list(self.featurizer.required_resources())

    # --- scoring --------------------------------------------------------------------------------
    def clean(self, texts: Sequence[Any]) -> list[str]:
        """The texts as the training data was stored: normalised, PII replaced by placeholders."""
        if isinstance(texts, str):
            raise TypeError("ScoringPipeline expects a sequence of texts, not one string")
        return self.rules.apply(texts)

    def features(self, texts: Sequence[Any]) -> Any:
        return self.featurizer.transform(self.clean(texts))

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), len(labels)), columns in ``labels`` order."""
        return self.proba_from_cleaned(self.clean(texts))

    def proba_from_cleaned(self, cleaned: list[str]) -> np.ndarray:
        """Probabilities of texts already cleaned; models that read texts (socialscore.modeling.transformer) get
        the texts, and the featurizer's output only when they use it."""
        if getattr(self.model, "reads_texts", False):
            features = self.featurizer.transform(cleaned) if self.model.needs_features else None
            return np.asarray(self.model.predict_proba_texts(cleaned, features), dtype=float)
        return self.proba_from_features(self.featurizer.transform(cleaned))

    def proba_from_features(self, features: Any) -> np.ndarray:
        """The model half alone, for features this pipeline's featurizer made (evaluation reuses them)."""
        return np.asarray(self.model.predict_proba(features), dtype=float).reshape(features.shape[0], len(self.labels))

    def score(self, texts: Sequence[Any]) -> Scores:
        """Probabilities, flags and risk bands; with a language profile, each text's language and
        whether the model was trained on it (``reliable``)."""
        cleaned = self.clean(texts)
        if self.languages is None:
            return self.scores(self.proba_from_cleaned(cleaned))
        from socialscore.modeling.behaviour.language import (
            LanguageProfile,
            detect_languages,
            reliable,
        )
        from socialscore.modeling.featurizers.features import PARALLEL_MIN_TEXTS

        if len(cleaned) < PARALLEL_MIN_TEXTS:
            languages = detect_languages(cleaned)
            scores = self.scores(self.proba_from_cleaned(cleaned))
        else:
            # a big batch is featurized in worker processes while this one waits: detect meanwhile
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as pool:
                detecting = pool.submit(detect_languages, cleaned)
                scores = self.scores(self.proba_from_cleaned(cleaned))
                languages = detecting.result()
        scores.language = languages
        scores.reliable = reliable(languages, self._language_profile(LanguageProfile))
        return scores

    def _language_profile(self, profile_type: Any) -> Any:
        """``languages`` as a LanguageProfile, made once per state (not per call)."""
        cached = self.__dict__.get("_profile")
        if cached is None or cached[0] is not self.languages:
            cached = self._profile = (self.languages, profile_type.from_state(self.languages))
        return cached[1]

    def scores(self, probabilities: np.ndarray) -> Scores:
        return scores_from_probabilities(
            probabilities, self.labels, self.primary_label, self.thresholds, self.high_risk
        )

    # --- storage --------------------------------------------------------------------------------
    def save(self, directory: Path) -> dict[str, str]:
        """Write the three files into ``directory`` (which must not hold a pipeline); return their sha256."""
        from socialscore.modeling.scorer.serialize import featurizer_state, model_state
        from socialscore.storage.digest import sha256_file

        directory.mkdir(parents=True, exist_ok=True)
        f_meta, f_arrays, vocabularies = featurizer_state(self.featurizer)
        m_meta, m_arrays = model_state(self.model)
        document = {
            "format": FORMAT,
            "rules": {"unicode_form": self.rules.unicode_form, "scrub_pii": self.rules.scrub_pii},
            "featurizer": f_meta,
            "model": m_meta,
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "high_risk": float(self.high_risk),
            "languages": self.languages,
            "card": self.card,
        }
        arrays = {f"featurizer__{k}": v for k, v in f_arrays.items()}
        arrays.update({f"model__{k}": v for k, v in m_arrays.items()})
        (directory / PIPELINE_FILE).write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        with open(directory / ARRAYS_FILE, "wb") as handle:
            np.savez_compressed(handle, **arrays)  # mostly-zero hashed weights: 59 MB -> see docs/benchmarks.md
        (directory / VOCAB_FILE).write_text(json.dumps(vocabularies, ensure_ascii=False), encoding="utf-8")
        companions = getattr(self.model, "companion_files", dict)()  # e.g. the base weights' licence
        for name, data in companions.items():
            (directory / name).write_bytes(data)
        return {name: sha256_file(directory / name) for name in (*FILES, *companions)}

    @classmethod
    def load(cls, directory: Path, expected: Mapping[str, str]) -> ScoringPipeline:
        """Read a stored pipeline after checking each file against ``expected`` sha256s."""
        from socialscore.modeling.scorer.serialize import DeferredFeaturizer, featurizer_from_state, model_from_state

        verify_files(directory, expected, FILES)
        try:
            document = json.loads((directory / PIPELINE_FILE).read_text(encoding="utf-8"))
            vocabularies = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
            with np.load(directory / ARRAYS_FILE, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError) as exc:  # ValueError: an object array (pickle) or bad JSON
            raise ModelError(f"the model in {directory} cannot be read safely: {exc}") from None
        if document.get("format") != FORMAT:
            raise ModelError(f"{directory / PIPELINE_FILE} is not a {FORMAT} file")
        f_arrays = {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith("featurizer__")}
        m_arrays = {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith("model__")}
        try:
            model = model_from_state(document["model"], m_arrays)
            reads_only_texts = getattr(model, "reads_texts", False) and not model.needs_features
            featurizer = (DeferredFeaturizer if reads_only_texts else featurizer_from_state)(
                document["featurizer"], f_arrays, vocabularies)
            rules = TextRules(**document["rules"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the model in {directory} is incomplete: {exc.__class__.__name__}: {exc}") from None
        return cls(
            rules=rules,
            featurizer=featurizer,
            model=model,
            thresholds={k: float(v) for k, v in document["thresholds"].items()},
            high_risk=float(document.get("high_risk", DEFAULT_HIGH_RISK)),
            card=dict(document.get("card") or {}),
            languages=document.get("languages"),
        )
