"""train: the gate's data checks, stratified K-fold CV on the train split, a threshold per label from
out-of-fold scores, the final fit; the scoring pipeline is registered as a new model version.

Writes ``models/registry/<version>/`` (plain files, never overwritten), a row in the registry and
``models/model_metadata_{mode}.json`` (the version and its files' sha256). Promotion is evaluate's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from socialscore.errors import DataError
from socialscore.modeling.behaviour.gate import GateRefused, GateResult, data_checks
from socialscore.modeling.scorer.pipeline import ScoringPipeline, TextRules
from socialscore.modeling.training.estimators import (
    Progress,
    SocialScoreModel,
    label_matrix,
    no_progress,
    resolve_labels,
)
from socialscore.modeling.training.prior import calibrate_and_threshold
from socialscore.modeling.training.validation import cross_validate
from socialscore.storage.atomic import write_json_atomic

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.pipeline.context import StepContext


def model_params(settings: Settings) -> dict[str, Any]:
    return settings.model.model_dump(mode="json", exclude={"type"})


def train_model(
    X: sp.csr_matrix, y_data: np.ndarray, data_labels: list[str], settings: Settings, progress: Progress = no_progress
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """Cross-validate, calibrate, choose a threshold per label and fit; return the model and its CV report.
    ``progress``: rows fitted in the CV and the final fit (StepContext.row_progress).

    The report's ``thresholds`` hold each label's decision threshold, chosen on its out-of-fold scores.
    """
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    Y = label_matrix(y_data, data_labels, labels)
    params = model_params(settings)
    folds = settings.train.cv_folds
    if X.shape[0] < folds:
        raise DataError(f"{X.shape[0]} training rows are too few for {folds}-fold cross-validation")

    t0 = time.perf_counter()
    cv = cross_validate(settings.model.type, params, X, Y, labels, folds, progress)
    cv_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = SocialScoreModel(settings.model.type, labels, primary, params)
    model.fit(X, Y, progress)
    fit_seconds = time.perf_counter() - t0
    model.fallbacks.update({k: v for k, v in cv.skipped.items() if k not in model.fallbacks})
    thresholds, report, prevalence = calibrate_and_threshold(
        model, cv.raw_oof, Y, labels, cv.folds, folds, cv.skipped, settings
    )
    model.threshold = thresholds[primary]
    timing = {"cv": round(cv_seconds, 3), "final_fit": round(fit_seconds, 3)}
    return model, {"cv": report, "seconds": timing, "fallbacks": dict(model.fallbacks), "thresholds": thresholds,
                   "prevalence": prevalence, "oof_proba": model.calibrated(cv.raw_oof)}


def train_chosen(
    X: sp.csr_matrix, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], settings: Settings
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """:func:`train_model` or the out-of-core trainer (``train.trainer``); the report says which ran."""
    from socialscore.modeling.training.out_of_core import (
        OUT_OF_CORE,
        choose_trainer,
        train_in_blocks,
    )

    trainer = choose_trainer(settings, X.shape[0], X.nnz)
    if trainer == OUT_OF_CORE:
        return train_in_blocks(X, row_ids, y_data, data_labels, settings)
    model, report = train_model(X, y_data, data_labels, settings)
    return model, {**report, "trainer": trainer}


def train_blocks(features: Any, train: np.ndarray) -> Any:
    """The train rows of the features' row blocks (they lead, in the features step's order)."""
    from socialscore.modeling.training.out_of_core_blocks import RowRange

    n = int(train.sum())
    if not train[:n].all():
        raise DataError("the features' train rows do not come first; rerun the features step")
    return RowRange(features, 0, n)


def train_texts(ctx: StepContext, ids: np.ndarray) -> list[str]:
    """The stored texts of ``ids`` (train rows, with the features step's train-split mitigations)."""
    from socialscore.steps.features import read_comments

    comments, _ = read_comments(ctx)
    by_id = dict(zip(comments["id"].astype(str), comments["text"].fillna("").astype(str), strict=False))
    missing = [i for i in ids.astype(str)[:5] if i not in by_id]
    if missing:
        raise DataError(f"train rows {missing} are not in the comments table; rerun the features step")
    return [by_id[i] for i in ids.astype(str)]


def train_from_blocks(
    blocks: Any, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], settings: Settings,
    progress: Progress = no_progress,
) -> tuple[SocialScoreModel, dict[str, Any]]:
    """The trainer ``train.trainer`` picks, over row blocks: out-of-core reads them one at a time, the
    in-memory trainer gathers them into one matrix first."""
    from socialscore.modeling.training.out_of_core import (
        OUT_OF_CORE,
        choose_trainer,
        train_out_of_core,
    )
    from socialscore.modeling.training.out_of_core_blocks import CountedBlocks, gather

    nnz = blocks.nnz if blocks.nnz is not None else sum(b.nnz for _, b in blocks)
    trainer = choose_trainer(settings, blocks.n_rows, nnz)
    if trainer == OUT_OF_CORE:  # passes until the loss is flat: no total
        with progress("out-of-core passes over the rows", None) as advance:
            return train_out_of_core(CountedBlocks(blocks, advance), row_ids, y_data, data_labels, settings)
    model, report = train_model(gather(blocks), y_data, data_labels, settings, progress)
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


def check_data(y_all: np.ndarray, train: np.ndarray, data_labels: list[str], settings: Settings) -> GateResult:
    """The gate's data checks on the train and held-out labels (before any fitting)."""
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    Y = label_matrix(y_all, data_labels, labels)
    checks = data_checks(Y[train], Y[~train], labels, primary, settings.train.cv_folds, settings.gate)
    return GateResult(checks, enforced=True, override=settings.gate.override)


def build_pipeline(
    model: SocialScoreModel, vectorizer: Any, thresholds: dict[str, float], settings: Settings,
    card: dict[str, Any], languages: dict[str, Any] | None = None,
) -> ScoringPipeline:
    """The scoring pipeline: the transform step's text rules, the featurizer, the model, its thresholds,
    and the training data's languages (texts in others are scored but marked unreliable)."""
    rules = TextRules(settings.transform.unicode_form, settings.transform.scrub_pii)
    return ScoringPipeline(rules, vectorizer, model, thresholds, settings.predict.high_risk, card, languages)


def register_version(ctx: StepContext, pipeline: ScoringPipeline, record: dict[str, Any]) -> dict[str, str]:
    """Write the version's files into the registry (a new folder, renamed into place) and record it."""
    import tempfile

    registry = ctx.registry
    final = registry.version_dir(pipeline.version)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{pipeline.version}.", dir=final.parent))
    try:
        files = pipeline.save(staging)
        staging.chmod(0o755)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    registry.register({**record, "files": files})
    return files


def run(ctx: StepContext) -> None:
    t_start = time.perf_counter()
    settings, layout = ctx.settings, ctx.layout
    features = ctx.read("features")
    y_all = ctx.read("labels")
    rows = ctx.read("rows")
    features_metadata = ctx.read("features_metadata")
    vectorizer = ctx.read("vectorizer")
    if features.n_rows != len(rows) or len(y_all) != len(rows):
        raise DataError("features, labels and rows disagree in length; rerun the features step")
    train = (rows["split"] == "train").to_numpy()
    data_labels = list(features_metadata["labels"])
    data_gate = check_data(y_all, train, data_labels, settings)
    if not data_gate.passed:
        if not data_gate.override:
            raise GateRefused(data_gate.refusal("the training data"))
        ctx.warn(f"quality gate overridden ({data_gate.override}): {data_gate.verdict()}")
    X = train_blocks(features, train)
    from socialscore.modeling.transformer import TEXT_MODEL_TYPES

    if settings.model.type in TEXT_MODEL_TYPES:  # the transformer extra (socialscore/modeling/transformer/)
        from socialscore.modeling.transformer.training import train_text_model

        ids = rows["id"].to_numpy()[train]
        texts = train_texts(ctx, ids)
        model, report = train_text_model(texts, X, ids, y_all[train], data_labels, settings, train_from_blocks)
    else:
        ids = rows["id"].array[train]  # Arrow strings: no Python string per row (only the folds need the ids)
        del rows
        model, report = train_from_blocks(X, ids, y_all[train], data_labels, settings, ctx.row_progress)

    trained_at = datetime.now(UTC)
    metadata = _describe(model, report, X, features_metadata, settings, layout, trained_at, y_all, train)
    metadata["data"]["provenance"] = training_provenance(ctx, len(y_all), int(train.sum()))
    card = {k: metadata[k] for k in ("model_version", "mode", "trained_at", "labels", "primary_label", "data")}
    card["languages"] = (features_metadata.get("languages") or {}).get("languages")
    pipeline = build_pipeline(model, vectorizer, report["thresholds"], settings, card, features_metadata.get("languages"))
    files = register_version(
        ctx,
        pipeline,
        {
            "version": metadata["model_version"],
            "mode": settings.mode,
            "model_type": model.model_type,
            "created_at": metadata["trained_at"],
            "run_id": ctx.run_id,
            "config": metadata["config"],
            "data": metadata["data"],
            "code": {"package_version": metadata["package_version"], "git_commit": metadata["git_commit"],
                     "sklearn_version": metadata["sklearn_version"]},
            "metrics": {"primary_label": model.primary_label,
                        "cv": {label: entry["mean"] for label, entry in report["cv"].items()}},
            "gate": {"data": data_gate.to_dict()},
        },
    )
    write_json_atomic(Path(ctx.location("model_metadata")), {**metadata, "files": files})

    cv_means = {label: entry["mean"] for label, entry in report["cv"].items()}
    primary_mean = cv_means.get(model.primary_label) or {}
    auc = primary_mean.get("roc_auc")
    ctx.info(
        f"{model.model_type}: CV ROC AUC ({model.primary_label}) "
        f"{'n/a' if auc is None else f'{auc:.4f}'}, threshold {model.threshold:.3f}, {X.shape[0]} rows; "
        f"registered {metadata['model_version']}"
    )
    for label, reason in report["fallbacks"].items():
        ctx.warn(f"label {label}: {reason}")
    ctx.fact("version", metadata["model_version"])
    ctx.fact(f"cv_auc_{model.primary_label}", None if auc is None else round(auc, 4))
    ctx.fact("thresholds", {k: round(v, 3) for k, v in report["thresholds"].items()})
    ctx.fact("trainer", report["trainer"])
    if "epoch_losses" in report:  # out-of-core: the epochs each label ran before the early stop
        ctx.fact("epochs", {label: len(losses) for label, losses in report["epoch_losses"].items()})
    ctx.fact("seconds", round(time.perf_counter() - t_start, 2))


def training_provenance(ctx: StepContext, rows: int, train_rows: int) -> dict[str, Any]:
    """The input files extract read (sha256, size) or that it generated the example data; the data rows
    used: transform's output when present (without the training-only augmentation rows), else ``rows``."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from socialscore.storage.provenance import data_provenance
    from socialscore.storage.sources import extract_sources

    clean = Path(ctx.location("clean"))
    if clean.is_file():
        split = pq.read_table(clean, columns=["split"]).column("split")
        rows, train_rows = len(split), int(pc.sum(pc.equal(split, "train")).as_py() or 0)
    data = ctx.settings.data
    return data_provenance(extract_sources(ctx.layout, ctx.settings), ctx.layout.project_dir, rows, train_rows,
                           rows - train_rows, data.example_rows, data.example_seed)


def _describe(
    model: SocialScoreModel,
    report: dict[str, Any],
    X: Any,
    features_metadata: dict[str, Any],
    settings: Settings,
    layout: Layout,
    trained_at: datetime,
    y_all: np.ndarray,
    train: np.ndarray,
) -> dict[str, Any]:
    """The model metadata (also the registry record's source)."""
    stamp = trained_at.strftime("%Y%m%dT%H%M%S.%fZ")  # microseconds: two quick retrains stay two versions
    digest = hashlib.sha256(f"{stamp}{features_metadata.get('input_hash')}{os.getpid()}".encode()).hexdigest()
    model_version = f"{model.model_type}-{settings.mode}-{stamp}-{digest[:8]}"
    cv_means = {label: entry["mean"] for label, entry in report["cv"].items()}
    data_labels = list(features_metadata["labels"])
    return {
        "model_version": model_version,
        "model_type": model.model_type,
        "mode": settings.mode,
        "params": model_params(settings),
        "labels": model.labels,
        "data_labels": data_labels,
        "primary_label": model.primary_label,
        "threshold": model.threshold,
        "thresholds": report["thresholds"],
        "threshold_metric": settings.train.threshold_metric,
        "calibration": {k: list(v) for k, v in model.calibration.items()},
        "fallbacks": report["fallbacks"],
        "cv_folds": settings.train.cv_folds,
        "cv": report["cv"],
        "cv_means": cv_means,
        "training_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "data_hash": features_metadata.get("input_hash"),
        "data": {
            "rows": int(len(y_all)),
            "train_rows": int(train.sum()),
            "test_rows": int((~train).sum()),
            "positives": {label: int(np.sum(np.asarray(y_all)[:, j])) for j, label in enumerate(data_labels)},
            "content_hash": features_metadata.get("input_hash"),
        },
        "config": {
            "transform": settings.transform.model_dump(mode="json"),
            "model": settings.model.model_dump(mode="json"),
            "train": settings.train.model_dump(mode="json"),
            "preprocess": settings.preprocess.model_dump(mode="json"),
            "features": settings.features.model_dump(mode="json"),
            "predict": settings.predict.model_dump(mode="json"),
        },
        "nltk_resources": list(features_metadata.get("nltk_resources", [])),
        "package_version": _package_version(),
        "sklearn_version": sklearn_version(),
        "git_commit": git_commit(layout.project_dir),
        "trained_at": trained_at.isoformat(),
        "seconds": report["seconds"],
        "epoch_losses": report.get("epoch_losses"),
    }


def _package_version() -> str:
    from socialscore import __version__

    return __version__


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__

