"""Saving and loading models with sha256 checks: the per-mode model file and the serving bundle.

The serving bundle is what the API and the Docker image use: ``models/model.joblib`` (the fitted
multi-label model), ``models/vectorizer.joblib`` (text → features, preprocessing included) and
``models/bundle.json`` (the manifest: version, labels, threshold, metrics, sha256 of both files).
The three files are replaced together (``atomic_group``), and loading verifies both sha256s.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialscore.errors import ModelError
from socialscore.pipeline.artifacts import atomic_group, atomic_path, recover, sha256_file

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
VECTORIZER_FILE = "vectorizer.joblib"
MANIFEST_FILE = "bundle.json"


def dump_verified(obj: Any, path: Path) -> str:
    """joblib-dump ``obj`` atomically to ``path``; return the sha256 of what was written."""
    import joblib

    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp)
        digest = sha256_file(tmp)
    return digest


def load_verified(path: Path, expected_sha256: str | None, what: str) -> Any:
    """Load a joblib file only if its sha256 matches the metadata; warn on a scikit-learn mismatch."""
    import joblib

    if not path.exists():
        raise ModelError(f"{what} {path} does not exist; run the 'train' step first")
    if expected_sha256 is None:
        raise ModelError(f"{what} {path} has no recorded sha256; retrain it")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ModelError(
            f"{what} {path} does not match its metadata (sha256 {actual[:12]}…, expected "
            f"{expected_sha256[:12]}…): the file was changed or is corrupt; retrain or restore it"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = joblib.load(path)
        except Exception as exc:  # a verified file that cannot be unpickled: wrong environment
            raise ModelError(f"{what} {path} cannot be loaded here: {exc.__class__.__name__}: {exc}") from exc
    for warning in caught:
        if "InconsistentVersionWarning" in type(warning.message).__name__:
            message = f"{what} {path} was saved by another scikit-learn version: {warning.message}"
            log.warning(message)
            warnings.warn(message, UserWarning, stacklevel=2)
    return obj


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


@dataclass
class ScoringBundle:
    """A loaded, verified model + vectoriser, ready to score raw texts."""

    model: Any
    vectorizer: Any
    manifest: dict[str, Any]
    directory: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def primary_label(self) -> str:
        return self.manifest["primary_label"]

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def version(self) -> str:
        return self.manifest["model_version"]

    @property
    def nltk_resources(self) -> list[str]:
        return list(self.manifest.get("nltk_resources", []))

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """Probabilities, shape (len(texts), len(labels)), columns in ``labels`` order."""
        features = self.vectorizer.transform(list(texts))
        return self.model.predict_proba(features)


def dump_staged(obj: Any, stage: Callable[[str], Path], name: str) -> str:
    """joblib-dump ``obj`` to the staged path for ``name``; return its sha256."""
    import joblib

    path = stage(name)
    joblib.dump(obj, path)
    return sha256_file(path)


def save_bundle(
    models_dir: Path,
    model: Any,
    vectorizer: Any,
    manifest: dict[str, Any],
    stage: Callable[[str], Path] | None = None,
) -> dict[str, Any]:
    """Write the serving bundle's three files as one group commit (see ``atomic_group``).

    Pass ``stage`` to join a group the caller opened (train commits its model and metadata in the same
    group, so a crash can never pair one model with another's metadata).
    """
    if stage is None:
        with atomic_group(models_dir) as own_stage:
            return save_bundle(models_dir, model, vectorizer, manifest, own_stage)
    full = dict(manifest)
    full["files"] = {
        MODEL_FILE: dump_staged(model, stage, MODEL_FILE),
        VECTORIZER_FILE: dump_staged(vectorizer, stage, VECTORIZER_FILE),
    }
    full.setdefault("sklearn_version", sklearn_version())
    stage(MANIFEST_FILE).write_text(json.dumps(full, indent=2, default=str) + "\n", encoding="utf-8")
    return full


def read_manifest(models_dir: Path) -> dict[str, Any]:
    path = models_dir / MANIFEST_FILE
    if not path.exists():
        raise ModelError(
            f"no model bundle in {models_dir} ({MANIFEST_FILE} missing); "
            "run the pipeline first: socialscore run --mode dev"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc


def load_bundle(models_dir: Path) -> ScoringBundle:
    """Load and verify the serving bundle in ``models_dir``."""
    try:
        recover(models_dir)
    except OSError as exc:
        raise ModelError(f"{models_dir} holds an unfinished model commit that cannot be completed: {exc}") from exc
    manifest = read_manifest(models_dir)
    files = manifest.get("files", {})
    model = load_verified(models_dir / MODEL_FILE, files.get(MODEL_FILE), "model")
    vectorizer = load_verified(models_dir / VECTORIZER_FILE, files.get(VECTORIZER_FILE), "vectorizer")
    return ScoringBundle(model=model, vectorizer=vectorizer, manifest=manifest, directory=models_dir)
