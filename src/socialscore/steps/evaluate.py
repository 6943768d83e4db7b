"""evaluate: score the held-out test split only, compute metrics, draw figures, run the quality gate,
promote what passed (``staging`` always, ``production`` in prod mode) and write the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from socialscore.errors import DataError
from socialscore.modeling.behaviour.bias import bias_png
from socialscore.modeling.behaviour.gate import GateRefused, GateResult
from socialscore.modeling.training.estimators import Advance, Progress, no_progress
from socialscore.modeling.training.metrics import compute_metrics, label_metrics
from socialscore.registry.store import PRODUCTION, STAGING

if TYPE_CHECKING:
    from socialscore.pipeline.context import StepContext

TEST_SPLIT = "test"
LINEAR_TYPES = {"logistic_regression", "nb_logistic"}


def held_out_indices(rows: Any, n_features: int, n_labels: int) -> np.ndarray:
    """Positions of the test rows; the features, labels and rows artifacts must be aligned."""
    if not len(rows) == n_features == n_labels:
        raise DataError(
            f"features ({n_features} rows), labels ({n_labels}) and rows ({len(rows)}) disagree; "
            "rerun the 'features' step"
        )
    index = np.flatnonzero(rows["split"].astype(str).to_numpy() == TEST_SPLIT)
    if index.size == 0:
        raise DataError("the test split is empty: nothing to evaluate (check transform.test_size)")
    return index


# --- figures ------------------------------------------------------------------------------------
CAPTIONS = {
    "confusion_matrix.png": "Confusion matrix per label at the saved threshold (counts, share of the actual class).",
    "roc_curve.png": "ROC curve per label.",
    "precision_recall.png": "Precision–recall curve per label; dotted lines mark each label's share of positives.",
    "calibration.png": "Calibration: predicted probability against the observed share of positives.",
    "feature_importance.png": "The 20 features that weigh most for the primary label.",
    "identity_bias.png": "Identity-term bias on the shipped probe set: subgroup, BPSN and BNSP ROC AUC per term, worst first.",
}


def draw_figures(
    y_true: np.ndarray,
    proba: np.ndarray,
    labels: Sequence[str],
    thresholds: Mapping[str, float],
    model: Any,
    primary: str,
    feature_names: Sequence[str],
) -> dict[str, bytes]:
    from socialscore.reports import evaluation as report

    y_pred = np.column_stack([proba[:, j] >= thresholds[label] for j, label in enumerate(labels)])
    importance = np.asarray(model.feature_importance(primary), dtype=float).ravel()
    names = list(feature_names)
    if len(names) != importance.size:  # never mislabel a bar: fall back to positions
        names = [f"feature {i}" for i in range(importance.size)]
    signed = getattr(model, "model_type", None) in LINEAR_TYPES or bool(np.any(importance < 0))
    return {
        "confusion_matrix.png": report.confusion_matrix_png(y_true, y_pred, labels, thresholds),
        "roc_curve.png": report.roc_curve_png(y_true, proba, labels),
        "precision_recall.png": report.precision_recall_png(y_true, proba, labels),
        "calibration.png": report.calibration_png(y_true, proba, labels),
        "feature_importance.png": report.feature_importance_png(names, importance, primary, signed),
    }


# --- the step -----------------------------------------------------------------------------------
def _aligned_truth(
    labels_matrix: np.ndarray, truth_labels: Sequence[str], model_labels: Sequence[str]
) -> np.ndarray:
    missing = [label for label in model_labels if label not in truth_labels]
    if missing:
        raise DataError(
            f"the model predicts {missing} but the features hold labels {list(truth_labels)}; rerun"
        )
    return labels_matrix[:, [list(truth_labels).index(label) for label in model_labels]]


class HeldOut(NamedTuple):
    index: np.ndarray  # positions of the test rows in the features
    y_true: np.ndarray  # (n_test, n_labels) 0/1, in the pipeline's label order
    proba: np.ndarray  # (n_test, n_labels) calibrated probabilities


def evaluate(
    features: Any,
    labels_matrix: np.ndarray,
    rows: Any,
    truth_labels: Sequence[str],
    pipeline: Any,
    texts_of: Any = None,
    progress: Progress = no_progress,
) -> tuple[dict[str, Any], dict[str, bytes], HeldOut]:
    """Pure part of the step: metrics and figures for the test rows only (+ their positions, truth and
    probabilities, which the gate and the error analysis reuse). ``texts_of(index)``: the stored texts
    of those rows, for models that score texts (socialscore.modeling.transformer); ``progress``: rows scored."""
    index = held_out_indices(rows, features.shape[0], labels_matrix.shape[0])
    labels = pipeline.labels
    y_true = _aligned_truth(np.asarray(labels_matrix)[index], truth_labels, labels).astype(np.int8)
    with progress("scoring the test split", index.size) as advance:
        if getattr(pipeline.model, "reads_texts", False):
            proba = pipeline.proba_from_cleaned(texts_of(index))
            advance(index.size)
        else:
            proba = held_out_proba(features, index, pipeline, advance)
    thresholds = dict(pipeline.thresholds)
    metrics = {
        "model_version": pipeline.version,
        "model_type": pipeline.model.model_type,
        "primary_label": pipeline.primary_label,
        "threshold": pipeline.threshold,
        "thresholds": thresholds,
        "split": TEST_SPLIT,
        "n_test_rows": int(index.size),
        **compute_metrics(y_true, proba, labels, thresholds),
    }
    figures = draw_figures(
        y_true, proba, labels, thresholds, pipeline.model, pipeline.primary_label,
        pipeline.featurizer.get_feature_names_out(),
    )
    return metrics, figures, HeldOut(index, y_true, proba)


def held_out_proba(features: Any, index: np.ndarray, pipeline: Any, advance: Advance | None = None) -> np.ndarray:
    """Probabilities of the rows at ``index`` (sorted); from row blocks one block at a time, so the
    held-out matrix is never gathered (a matrix is scored whole). ``advance(rows)`` after each block."""
    advance = advance or (lambda rows: None)
    if not hasattr(features, "starts"):
        proba = pipeline.proba_from_features(features[index])
        advance(len(index))
        return proba
    proba = np.empty((len(index), len(pipeline.labels)))
    ends = [*features.starts[1:], features.n_rows]
    for number, (start, end) in enumerate(zip(features.starts, ends, strict=True)):
        lo, hi = np.searchsorted(index, [start, end])
        if hi > lo:  # a block with no held-out row is never read
            proba[lo:hi] = pipeline.proba_from_features(features.block(number)[index[lo:hi] - start])
            advance(int(hi - lo))
    return proba


def behaviour(pipeline: Any) -> dict[str, Any]:
    """Identity-term bias on the shipped probe set, at the served threshold (Borkan et al.'s metrics)."""
    from socialscore.modeling.behaviour.bias import bias_report

    j = pipeline.labels.index(pipeline.primary_label)
    return bias_report(lambda texts: pipeline.predict_proba(texts)[:, j], pipeline.threshold)


def held_out_texts(ctx: StepContext, index: np.ndarray) -> list[str]:
    """The stored (scrubbed) texts of the held-out rows, in the features' row order; only the test
    split's ids and texts are read (the whole table is ~2 GB at 1M comments)."""
    if not ctx.exists("comments"):
        ctx.read("comments")  # raises the standard "run step 'load' first" error
    comments = ctx.db.read_table(ctx.location("comments"), columns=["id", "text"], where_split=TEST_SPLIT)
    comments.index = comments["id"].astype(str)
    test_ids = ctx.read("rows")["id"].astype(str).to_numpy()[index]
    return comments.loc[test_ids, "text"].fillna("").astype(str).tolist()


LANGUAGE_CHUNK = 20_000  # texts cleaned and tagged per progress update


def language_summary(pipeline: Any, texts: list[str], progress: Progress = no_progress) -> dict[str, Any] | None:
    """The training languages, and the share of held-out texts in them (the rest scored unreliable)."""
    if pipeline.languages is None:
        return None
    from socialscore.modeling.behaviour.language import LanguageProfile, detect_languages, reliable

    profile = LanguageProfile.from_state(pipeline.languages)
    in_language = 0
    with progress("languages of the test split", len(texts)) as advance:
        for start in range(0, len(texts), LANGUAGE_CHUNK):
            part = texts[start : start + LANGUAGE_CHUNK]
            # what pipeline.score reports per text, without featurizing and scoring the split a second time
            in_language += int(np.sum(reliable(detect_languages(pipeline.clean(part)), profile)))
            advance(len(part))
    return {
        "training": pipeline.languages.get("languages"),
        "held_out_reliable_share": in_language / len(texts) if len(texts) else None,
    }


def judge(ctx: StepContext, pipeline: Any, metrics: dict[str, Any], held: HeldOut, texts: list[str]) -> GateResult:
    """The quality gate after evaluation: floors, behaviour and bias checks, no regression against production."""
    from socialscore.modeling.behaviour.gate import (
        behaviour_checks,
        bias_checks,
        metric_checks,
        regression_check,
    )

    cfg = ctx.settings.gate
    checks = metric_checks(metrics, pipeline.primary_label, cfg) + behaviour_checks(pipeline, cfg)
    checks += bias_checks(metrics["bias"], cfg)
    production = ctx.registry.alias(PRODUCTION)
    if production is not None and production != pipeline.version and cfg.max_regression is not None:
        served = ctx.registry.load(production)
        if served.primary_label == pipeline.primary_label:
            j = pipeline.labels.index(pipeline.primary_label)
            theirs = served.predict_proba(texts)[:, served.labels.index(served.primary_label)]
            checks += regression_check(
                metrics["labels"][pipeline.primary_label]["roc_auc"],
                label_metrics(held.y_true[:, j], theirs, served.threshold)["roc_auc"],
                production,
                cfg,
            )
    return GateResult(checks, enforced=cfg.enforce, override=cfg.override)


def promote_if_due(ctx: StepContext, pipeline: Any, gate: GateResult) -> list[str]:
    """staging follows every model that passed; production follows prod models that passed (or were overridden)."""
    from socialscore.registry.serving import promote

    registry, run = ctx.registry, ctx.run_id or "a run"
    moved = []
    if gate.passed:
        promote(registry, pipeline.version, f"passed the gate in {run}", alias=STAGING)
        moved.append(STAGING)
    if ctx.settings.mode == "prod" and ctx.settings.registry.auto_promote and gate.promotable:
        reason = f"passed the gate in {run}" if gate.passed else f"gate overridden in {run}: {gate.override}"
        promote(registry, pipeline.version, reason, force=not gate.passed)
        moved.append(PRODUCTION)
    return moved


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def run(ctx: StepContext) -> None:
    features = ctx.read("features")
    feature_meta = ctx.read("features_metadata")
    pipeline = ctx.read("model")
    read: dict[str, list[str]] = {}

    def texts_of(index: np.ndarray) -> list[str]:
        read["texts"] = held_out_texts(ctx, index)
        return read["texts"]

    metrics, figures, held = evaluate(
        features, ctx.read("labels"), ctx.read("rows"), feature_meta["labels"], pipeline, texts_of, ctx.row_progress
    )
    texts = read["texts"] if "texts" in read else held_out_texts(ctx, held.index)
    if hasattr(pipeline.model, "held_out_summary"):  # cascade: share routed, each part's metrics
        metrics["cascade"] = pipeline.model.held_out_summary(pipeline, texts, held.y_true)
    metrics["bias"] = behaviour(pipeline)
    metrics["languages"] = language_summary(pipeline, texts, ctx.row_progress)
    metrics["provenance"] = (pipeline.card.get("data") or {}).get("provenance")
    figures["identity_bias.png"] = bias_png(metrics["bias"])
    gate = judge(ctx, pipeline, metrics, held, texts)
    ctx.registry.set_gate(pipeline.version, gate.to_dict(), {"held_out": _held_out_summary(metrics)})
    promoted = promote_if_due(ctx, pipeline, gate)
    metrics = {
        "mode": ctx.settings.mode,
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **metrics,
        "gate": {**gate.to_dict(), "promoted_to": promoted},
    }
    from socialscore.reports.evaluation import render_html

    ctx.write("metrics", metrics)
    ctx.write("figures", figures)
    errors = error_examples(pipeline, texts, held, ctx.settings.evaluate.error_examples)
    ctx.write("report", render_html(metrics, figures, CAPTIONS, errors))
    primary = metrics["labels"][pipeline.primary_label]
    ctx.info(
        f"evaluated {metrics['n_test_rows']:,} test rows; {pipeline.primary_label}: "
        f"ROC AUC {_fmt(primary['roc_auc'])}, F1 {_fmt(primary['f1'])}"
    )
    for label, m in metrics["labels"].items():
        ctx.info(
            f"  {label:<14} threshold {m['threshold']:.3f}  ROC AUC {_fmt(m['roc_auc'])}  "
            f"F1 {_fmt(m['f1'])}  recall {_fmt(m['recall'])}"
        )
    ctx.info(f"quality gate: {gate.verdict()}" + (f"; now {' and '.join(promoted)}" if promoted else ""))
    ctx.fact("test_rows", metrics["n_test_rows"])
    ctx.fact("roc_auc", primary["roc_auc"])
    ctx.fact("f1", primary["f1"])
    ctx.fact("gate", "passed" if gate.passed else ("overridden" if gate.override else "refused"))
    ctx.fact("promoted", promoted)
    if not gate.passed and gate.enforced and not gate.override:
        raise GateRefused(gate.refusal(pipeline.version))
    if not gate.passed:
        ctx.warn(f"quality gate: {gate.verdict()} (not enforced in {ctx.settings.mode} mode)")


def error_examples(pipeline: Any, texts: list[str], held: HeldOut, k: int) -> dict[str, Any] | None:
    """The most confident false positives and negatives of the primary label, with their top terms
    (``evaluate.error_examples``; none by default: their texts are comments)."""
    if k <= 0:
        return None
    from socialscore.modeling.behaviour.explain import error_analysis

    j = pipeline.labels.index(pipeline.primary_label)
    linear = hasattr(pipeline.model, "coef_") and not getattr(pipeline.model, "trees_", None)
    return error_analysis(texts, held.y_true[:, j], held.proba[:, j], pipeline.threshold,
                          pipeline.featurizer if linear else None, pipeline.model if linear else None,
                          pipeline.primary_label, k=k)


def _held_out_summary(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {
        label: {k: m[k] for k in ("roc_auc", "pr_auc", "f1", "precision", "recall", "threshold")}
        for label, m in metrics["labels"].items()
    }
