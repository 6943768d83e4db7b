"""train: stratified K-fold CV on the train split, threshold from out-of-fold scores, final fit.

Writes the per-mode model (with its sha256 in the metadata), a timestamped copy under
``models/versions/`` and the serving bundle (``models/model.joblib`` + ``vectorizer.joblib``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from socialscore.bundle import dump_staged, load_verified, save_bundle, sklearn_version
from socialscore.errors import DataError, ModelError
from socialscore.models import (
    SocialScoreModel,
    binary_metrics,
    choose_threshold,
    cross_validate,
    label_matrix,
    mean_metrics,
    resolve_labels,
)
from socialscore.pipeline.artifacts import atomic_group, atomic_path, recover, write_json_atomic

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.pipeline.context import StepContext


def model_params(settings: Settings) -> dict[str, Any]:
    return settings.model.model_dump(mode="json", exclude={"type"})


def train_model(
    X: sp.csr_matrix, y_data: np.ndarray, data_labels: list[str], settings: Settings
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """Cross-validate, calibrate, choose the threshold and fit; return the model and its CV report."""
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    Y = label_matrix(y_data, data_labels, labels)
    params = model_params(settings)
    folds = settings.train.cv_folds
    if X.shape[0] < folds:
        raise DataError(f"{X.shape[0]} training rows are too few for {folds}-fold cross-validation")

    t0 = time.perf_counter()
    cv = cross_validate(settings.model.type, params, X, Y, labels, folds)
    cv_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = SocialScoreModel(settings.model.type, labels, primary, params)
    model.fit(X, Y)
    fit_seconds = time.perf_counter() - t0
    model.fallbacks.update({k: v for k, v in cv.skipped.items() if k not in model.fallbacks})
    model.calibrate(cv.raw_oof, Y)

    oof = model.calibrated(cv.raw_oof)
    p = labels.index(primary)
    scored = ~np.isnan(oof[:, p])
    model.threshold = (
        choose_threshold(Y[scored, p], oof[scored, p], settings.train.threshold_metric) if scored.any() else 0.5
    )
    report: dict[str, Any] = {}
    for j, label in enumerate(labels):
        if label in cv.skipped:
            report[label] = {"folds": [], "mean": None, "skipped": cv.skipped[label]}
            continue
        threshold = model.threshold if label == primary else 0.5
        per_fold = [
            binary_metrics(Y[cv.folds[:, j] == k, j], oof[cv.folds[:, j] == k, j], threshold) for k in range(folds)
        ]
        report[label] = {"folds": per_fold, "mean": mean_metrics(per_fold), "threshold": threshold}
    timing = {"cv": round(cv_seconds, 3), "final_fit": round(fit_seconds, 3)}
    return model, {"cv": report, "seconds": timing, "fallbacks": dict(model.fallbacks)}


def train_chosen(
    X: sp.csr_matrix, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], settings: Settings
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """:func:`train_model` or the out-of-core trainer (``train.trainer``); the report says which ran."""
    from socialscore.modeling.out_of_core import OUT_OF_CORE, choose_trainer, train_in_blocks

    trainer = choose_trainer(settings, X.shape[0], X.nnz)
    if trainer == OUT_OF_CORE:
        return train_in_blocks(X, row_ids, y_data, data_labels, settings)
    model, report = train_model(X, y_data, data_labels, settings)
    return model, {**report, "trainer": trainer}


def train_rows(features: sp.csr_matrix, train: np.ndarray) -> sp.csr_matrix:
    """``features[train]``; a view, not a copy, when the train rows lead (the features step's order)."""
    n = int(train.sum())
    if not train[:n].all():
        return features[train]
    X = sp.csr_matrix((features.data, features.indices, features.indptr[: n + 1]), shape=(n, features.shape[1]))
    X.has_sorted_indices = features.has_sorted_indices
    return X


def git_commit(directory: Path) -> str | None:
    """HEAD of the git checkout holding ``directory``, or None."""
    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def keep_versions(versions_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` versioned models (and their metadata)."""
    models = sorted(versions_dir.glob("*.pkl"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for old in models[:-keep] if keep > 0 else models:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)


def run(ctx: StepContext) -> None:
    t_start = time.perf_counter()
    settings, layout = ctx.settings, ctx.layout
    features = ctx.read("features")
    y_all = ctx.read("labels")
    rows = ctx.read("rows")
    features_metadata = ctx.read("features_metadata")
    vectorizer = ctx.read("vectorizer")
    if features.shape[0] != len(rows) or len(y_all) != len(rows):
        raise DataError("features, labels and rows disagree in length; rerun the features step")
    train = (rows["split"] == "train").to_numpy()
    X = train_rows(sp.csr_matrix(features), train)
    model, report = train_chosen(X, rows["id"].to_numpy()[train], y_all[train], list(features_metadata["labels"]), settings)

    trained_at = datetime.now(UTC)
    model_path = Path(ctx.location("model"))
    metadata_path = Path(ctx.location("model_metadata"))
    # The model, its metadata and the serving bundle are replaced together or not at all.
    with atomic_group(layout.models_dir) as stage:
        sha = dump_staged(model, stage, model_path.name)
        metadata, manifest = _describe(model, report, X, features_metadata, settings, layout, trained_at, sha)
        stage(metadata_path.name).write_text(json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8")
        save_bundle(layout.models_dir, model, vectorizer, manifest, stage)
    layout.versions_dir.mkdir(parents=True, exist_ok=True)
    versioned = layout.versions_dir / f"{metadata['model_version']}.pkl"
    with atomic_path(versioned) as tmp:
        shutil.copyfile(model_path, tmp)
    write_json_atomic(versioned.with_suffix(".json"), metadata)
    keep_versions(layout.versions_dir, settings.train.keep_versions)

    cv_means = {label: entry["mean"] for label, entry in report["cv"].items()}
    primary_mean = cv_means.get(model.primary_label) or {}
    auc = primary_mean.get("roc_auc")
    ctx.info(
        f"{model.model_type}: CV ROC AUC ({model.primary_label}) "
        f"{'n/a' if auc is None else f'{auc:.4f}'}, threshold {model.threshold:.3f}, {X.shape[0]} rows"
    )
    for label, reason in report["fallbacks"].items():
        ctx.warn(f"label {label}: {reason}")
    ctx.fact(f"cv_auc_{model.primary_label}", None if auc is None else round(auc, 4))
    ctx.fact("threshold", round(model.threshold, 4))
    ctx.fact("trainer", report["trainer"])
    ctx.fact("seconds", round(time.perf_counter() - t_start, 2))


def _describe(
    model: SocialScoreModel,
    report: dict[str, Any],
    X: Any,
    features_metadata: dict[str, Any],
    settings: Settings,
    layout: Layout,
    trained_at: datetime,
    sha: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model metadata and the serving bundle's manifest."""
    stamp = trained_at.strftime("%Y%m%dT%H%M%S.%fZ")  # microseconds: two quick retrains stay two versions
    model_path = layout.model_file(settings.model.type)
    model_version = f"{model.model_type}-{settings.mode}-{stamp}-{sha[:8]}"
    cv_means = {label: entry["mean"] for label, entry in report["cv"].items()}
    metadata = {
        "model_version": model_version,
        "model_type": model.model_type,
        "mode": settings.mode,
        "params": model_params(settings),
        "labels": model.labels,
        "data_labels": list(features_metadata["labels"]),
        "primary_label": model.primary_label,
        "threshold": model.threshold,
        "threshold_metric": settings.train.threshold_metric,
        "calibration": {k: list(v) for k, v in model.calibration.items()},
        "fallbacks": report["fallbacks"],
        "cv_folds": settings.train.cv_folds,
        "cv": report["cv"],
        "training_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "data_hash": features_metadata.get("input_hash"),
        "config": {
            "model": settings.model.model_dump(mode="json"),
            "train": settings.train.model_dump(mode="json"),
            "preprocess": settings.preprocess.model_dump(mode="json"),
            "features": settings.features.model_dump(mode="json"),
        },
        "nltk_resources": list(features_metadata.get("nltk_resources", [])),
        "package_version": _package_version(),
        "sklearn_version": sklearn_version(),
        "git_commit": git_commit(layout.project_dir),
        "trained_at": trained_at.isoformat(),
        "model_file": model_path.name,
        "sha256": sha,
        "seconds": report["seconds"],
    }
    manifest = {
        "model_version": model_version,
        "trained_at": metadata["trained_at"],
        "labels": model.labels,
        "primary_label": model.primary_label,
        "threshold": model.threshold,
        "metrics": cv_means,
        "mode": settings.mode,
        "model_type": model.model_type,
        "nltk_resources": metadata["nltk_resources"],
        "training_rows": metadata["training_rows"],
        "data_hash": metadata["data_hash"],
        "sha256_model_pkl": sha,
    }
    return metadata, manifest


def _package_version() -> str:
    from socialscore import __version__

    return __version__


def load_model(layout: Layout, settings: Settings) -> tuple[SocialScoreModel, dict[str, Any]]:
    """The per-mode model and its metadata; refuses a model whose sha256 does not match."""
    recover(layout.models_dir)
    path = layout.model_metadata
    if not path.exists():
        raise ModelError(f"no trained model for mode {settings.mode} ({path} missing); run the 'train' step first")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON ({exc}); rerun the 'train' step") from exc
    if metadata.get("model_type") != settings.model.type:
        raise ModelError(
            f"{path} describes a {metadata.get('model_type')} model but model.type is {settings.model.type}; "
            "rerun the 'train' step"
        )
    model = load_verified(layout.model_file(settings.model.type), metadata.get("sha256"), "model")
    return model, metadata
