"""The train step for ``model.type: transformer`` and ``cascade``: texts of the train split, a
validation split for early stopping, calibration and thresholds, export, int8 when it costs
<= ``MAX_INT8_F1_LOSS``, and for a cascade the linear model and its routing band (out of fold).

Returns ``(model, report)`` in the shape the linear trainers return, so the train step registers it
the same way (registry, card, thresholds, gate).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from socialscore.errors import DataError
from socialscore.modeling.training.estimators import label_matrix, resolve_labels
from socialscore.modeling.transformer import require_training

if TYPE_CHECKING:
    from socialscore.config import Settings

log = logging.getLogger(__name__)

MAX_INT8_F1_LOSS = 0.01
# the train step's linear trainer: (blocks, row ids, labels, label names, settings) -> (model, report)
LinearTrainer = Callable[[Any, np.ndarray, np.ndarray, list[str], "Settings"], tuple[Any, dict[str, Any]]]


def real_rows(ids: np.ndarray) -> np.ndarray:
    """Rows that are comments, not the train split's mitigations (augmentation sentences, repeated rows)."""
    from socialscore.modeling.behaviour.mitigation import AUGMENT_ID_PREFIX

    ids = np.asarray(ids).astype(str)
    return ~(np.char.startswith(ids, AUGMENT_ID_PREFIX) | (np.char.find(ids, "~") >= 0))


def validation_split(Y: np.ndarray, primary: int, share: float, seed: int, eligible: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask of the validation rows (``share`` of all rows, drawn from the ``eligible`` ones:
    real comments, so that early stopping and calibration see the data scored later), stratified on
    the primary label."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(Y)) if eligible is None else np.flatnonzero(eligible)
    y = Y[index, primary]
    strata = y if 2 <= y.sum() <= len(y) - 2 else None
    size = min(max(2, round(share * len(Y))), len(index) // 2)
    _, val = train_test_split(index, test_size=size, random_state=seed, stratify=strata)
    mask = np.zeros(len(Y), dtype=bool)
    mask[val] = True
    return mask


def best_f1(y: np.ndarray, scores: np.ndarray) -> float:
    """The best F1 over thresholds (how int8 and fp32 are compared)."""
    from sklearn.metrics import precision_recall_curve

    if y.min() == y.max():
        return float("nan")
    precision, recall, _ = precision_recall_curve(y, scores)
    return float(np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12)))


def fit_transformer(
    texts: Sequence[str], Y: np.ndarray, labels: list[str], primary: str, settings: Settings,
    encoder_config: Any = None, eligible: np.ndarray | None = None,
) -> tuple[Any, dict[str, Any], np.ndarray, np.ndarray]:
    """Fine-tune, export and calibrate; (model, report, validation mask, calibrated validation probabilities)."""
    require_training()
    from socialscore.modeling.training.prior import calibrate_and_threshold
    from socialscore.modeling.transformer.finetune import (
        build_classifier,
        export_onnx,
        fine_tune,
        quantize_int8,
    )
    from socialscore.modeling.transformer.model import TransformerModel
    from socialscore.modeling.transformer.weights import provenance

    cfg, train_cfg = settings.model, settings.train
    j = labels.index(primary)
    if len(texts) < 20:
        raise DataError(f"{len(texts)} training texts are too few to fine-tune a transformer (20 at least)")
    val = validation_split(Y, j, cfg.validation_share, cfg.random_state, eligible)
    fit_idx, val_idx = np.flatnonzero(~val), np.flatnonzero(val)
    module, tokenizer_json = build_classifier(len(labels), encoder_config, cfg.random_state)
    t0 = time.process_time()
    fit = fine_tune(
        module, tokenizer_json, [texts[i] for i in fit_idx], Y[fit_idx], [texts[i] for i in val_idx], Y[val_idx],
        max_length=cfg.max_length, batch_size=cfg.batch_size, epochs=cfg.transformer_epochs,
        learning_rate=cfg.learning_rate, head_learning_rate=cfg.head_learning_rate,
        time_budget_s=train_cfg.time_budget_s, patience=cfg.patience,
        evaluations_per_epoch=cfg.evaluations_per_epoch, seed=cfg.random_state, threads=cfg.torch_threads,
    )
    params = {k: v for k, v in cfg.model_dump(mode="json").items() if k != "type"}
    val_texts = [texts[i] for i in val_idx]
    with tempfile.TemporaryDirectory(prefix="socialscore-onnx-") as tmp:
        fp32_path = export_onnx(module, Path(tmp))
        candidates = {"fp32": fp32_path.read_bytes()}
        if cfg.quantize != "fp32":
            candidates["int8"] = quantize_int8(fp32_path).read_bytes()
    raw, quality = {}, {}
    for name, onnx_bytes in candidates.items():
        candidate = TransformerModel(labels, primary, params, onnx_bytes, tokenizer_json, cfg.max_length, name)
        raw[name] = candidate.raw_texts(val_texts)
        quality[name] = {"validation_best_f1": round(best_f1(Y[val_idx, j], raw[name][:, j]), 4),
                         "bytes": len(onnx_bytes)}
    loss = quality["fp32"]["validation_best_f1"] - quality.get("int8", {}).get("validation_best_f1", -np.inf)
    chosen = "int8" if "int8" in candidates and (cfg.quantize == "int8" or loss <= MAX_INT8_F1_LOSS) else "fp32"
    model = TransformerModel(
        labels, primary, params, candidates[chosen], tokenizer_json, cfg.max_length, chosen,
        info={**provenance(), "training": {
            "stopped": fit.stopped, "steps": fit.steps, "examples": fit.examples, "best_step": fit.best_step,
            "fine_tune_cpu_seconds": fit.cpu_seconds, "history": fit.history, "fit_rows": len(fit_idx),
            "validation_rows": len(val_idx)},
            "precision": {"chosen": chosen, "int8_f1_loss": None if "int8" not in candidates else round(loss, 4),
                          **quality}},
    )
    fallbacks = {label: "only one class in the training texts: constant score"
                 for k, label in enumerate(labels) if Y[:, k].min() == Y[:, k].max()}
    model.fallbacks.update(fallbacks)
    thresholds, report, prevalence = calibrate_and_threshold(
        model, raw[chosen], Y[val_idx], labels, np.zeros(len(val_idx), dtype=int), 1, fallbacks, settings
    )
    model.threshold = thresholds[primary]
    log.info("transformer: %s after %d steps (%s), served %s", fit.stopped, fit.steps, fit.examples, chosen)
    return model, {
        "cv": report, "thresholds": thresholds, "prevalence": prevalence, "fallbacks": dict(model.fallbacks),
        "seconds": {"fine_tune_cpu": fit.cpu_seconds, "train_cpu": round(time.process_time() - t0, 1)},
        "trainer": "transformer", "validation": "held-out validation split (not cross-validation)",
    }, val, model.calibrated(raw[chosen])


def train_text_model(
    texts: Sequence[str], blocks: Any, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str],
    settings: Settings, train_linear: LinearTrainer,
) -> tuple[Any, dict[str, Any]]:
    """The train step's trainer for ``transformer`` and ``cascade`` (``texts`` and ``blocks``: the train
    rows' texts and features; ``train_linear``: the step's linear trainer, for the cascade)."""
    require_training()
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    Y = label_matrix(y_data, data_labels, labels)
    if settings.model.type == "transformer":
        model, report, _, _ = fit_transformer(texts, Y, labels, primary, settings, eligible=real_rows(row_ids))
        return model, report
    return fit_cascade(blocks, row_ids, y_data, data_labels, texts, Y, labels, primary, settings, train_linear)


def linear_settings(settings: Settings) -> Settings:
    """The settings with ``model.type`` the cascade's linear type."""
    model = settings.model.model_copy(update={"type": settings.model.cascade_linear})
    return settings.model_copy(update={"model": model})


def fit_cascade(
    blocks: Any, row_ids: np.ndarray, y_data: np.ndarray, data_labels: list[str], texts: Sequence[str],
    Y: np.ndarray, labels: list[str], primary: str, settings: Settings, train_linear: LinearTrainer,
    encoder_config: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """The linear model (its usual CV), the band holding ``model.cascade_share`` of its out-of-fold
    scores, the transformer; thresholds chosen on the validation rows' cascaded scores."""
    from socialscore.modeling.training.metrics import compute_metrics
    from socialscore.modeling.training.prior import prior_weights
    from socialscore.modeling.training.validation import choose_threshold
    from socialscore.modeling.transformer.model import CascadeModel, choose_band

    t0 = time.process_time()
    linear, linear_report = train_linear(blocks, row_ids, y_data, data_labels, linear_settings(settings))
    oof = linear_report.get("oof_proba")
    if oof is None:
        raise DataError("the linear trainer gave no out-of-fold scores to choose the cascade's band")
    j = labels.index(primary)
    if not np.isfinite(oof[:, j]).all():  # the out-of-core trainer cross-validates a subset of rows
        raise DataError("the cascade needs out-of-fold scores for every training row; this linear trainer "
                        "cross-validated only train.cv_max_rows of them: raise or unset train.cv_max_rows")
    linear_cpu = time.process_time() - t0
    share = settings.model.cascade_share
    band = choose_band(oof[:, j], linear.threshold, share)
    transformer, t_report, val, t_val_proba = fit_transformer(
        texts, Y, labels, primary, settings, encoder_config, real_rows(row_ids))
    model = CascadeModel(linear, transformer, linear.threshold, band, share, fallbacks=dict(linear.fallbacks))
    cascaded = oof[val].copy()
    routed = model.routed(cascaded)
    cascaded[routed] = t_val_proba[routed]
    # weighted for train.prevalence, as every other model type's thresholds (training/prior.py)
    weights = prior_weights(Y[val, j], settings.train.prevalence)
    thresholds = {label: choose_threshold(Y[val, k], cascaded[:, k], settings.train.threshold_metric, weights)
                  for k, label in enumerate(labels)}
    model.threshold = thresholds[primary]
    validation = {
        "cascade": compute_metrics(Y[val], cascaded, labels, thresholds)["labels"],
        "linear": compute_metrics(Y[val], oof[val], labels, linear_report["thresholds"])["labels"],
        "transformer": compute_metrics(Y[val], t_val_proba, labels, t_report["thresholds"])["labels"],
    }
    model.info = {"linear_thresholds": linear_report["thresholds"], "transformer_thresholds": t_report["thresholds"],
                  "routing": {"target_share": share, "band_logit": band,
                              "out_of_fold_share": float(np.mean(model.routed(oof))),
                              "validation_share": float(np.mean(routed))},
                  "validation": validation}
    report = {
        "cv": {label: {"folds": [], "mean": validation["cascade"][label], "threshold": thresholds[label]}
               for label in labels},
        "thresholds": thresholds, "prevalence": t_report["prevalence"], "fallbacks": dict(model.fallbacks),
        "seconds": {"linear_cpu": round(linear_cpu, 1), **t_report["seconds"]},
        "trainer": "cascade", "routing": model.info["routing"],
    }
    return model, report
