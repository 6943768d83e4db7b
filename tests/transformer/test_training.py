"""Training (torch, the extra's training half): fine-tuning with early stopping and a CPU budget, an
ONNX export that scores like the torch model, int8 only within the F1 loss allowed, and whole runs
of ``model.type: transformer`` and ``cascade`` through the CLI (a tiny randomly initialised BERT
stands in for all-MiniLM-L6-v2 so the test takes seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny_text_model import corpus, require_training_extra, tiny_bert_config

from socialscore.config import load_settings


@pytest.fixture(autouse=True)
def _extra() -> None:
    require_training_extra()


def _settings(**train):
    model = {"transformer_epochs": 2, "batch_size": 8, "learning_rate": 1e-3, "evaluations_per_epoch": 2,
             "torch_threads": 1, "max_length": 16}
    return load_settings("dev", overrides=[{"model": model, "train": {"time_budget_s": None, **train}}])


def test_the_export_scores_like_the_torch_model(tmp_path: Path) -> None:
    from socialscore.modeling.transformer.finetune import build_classifier, export_onnx, predict_logits
    from socialscore.modeling.transformer.runtime import OnnxScorer, make_tokenizer

    module, tokenizer_json = build_classifier(2, tiny_bert_config())
    module.eval()
    texts, _ = corpus(20)
    texts[3] = "a much longer text " * 10  # truncated at max_length; padding differs per batch
    expected = predict_logits(module, make_tokenizer(tokenizer_json, 16), texts, 4)
    got = OnnxScorer(export_onnx(module, tmp_path).read_bytes(), tokenizer_json, 16, batch_size=3).raw_scores(texts)
    assert np.allclose(got, expected, atol=1e-4)


def test_fine_tuning_learns_stops_and_records_its_choices() -> None:
    from sklearn.metrics import roc_auc_score

    from socialscore.modeling.transformer.training import fit_transformer

    texts, Y = corpus(240)
    model, report, val, val_proba = fit_transformer(texts, Y, ["toxic", "insult"], "toxic", _settings(),
                                                    tiny_bert_config())
    training, precision = model.info["training"], model.info["precision"]
    assert training["stopped"] in ("epochs", "early") and training["history"]
    assert training["validation_rows"] == val.sum() == 24
    assert precision["chosen"] == ("int8" if precision["int8_f1_loss"] <= 0.01 else "fp32")
    assert report["trainer"] == "transformer" and set(report["thresholds"]) == {"toxic", "insult"}
    assert model.calibration["toxic"][0] != 1.0  # Platt-scaled on the validation split
    test_texts, test_Y = corpus(90, seed=9)
    assert roc_auc_score(test_Y[:, 0], model.predict_proba_texts(test_texts)[:, 0]) > 0.9
    assert np.allclose(val_proba, model.predict_proba_texts([texts[i] for i in np.flatnonzero(val)]))


def test_the_cpu_budget_ends_training() -> None:
    from socialscore.modeling.transformer.training import fit_transformer

    texts, Y = corpus(240)
    model, *_ = fit_transformer(texts, Y, ["toxic", "insult"], "toxic", _settings(time_budget_s=0.02),
                                tiny_bert_config())
    assert model.info["training"]["stopped"] == "budget"
    assert model.info["training"]["steps"] < 2 * 27  # both epochs would be 54 steps


@pytest.mark.parametrize("model_type", ["transformer", "cascade"])
def test_a_whole_run_registers_evaluates_and_predicts(project_dir: Path, monkeypatch, model_type: str) -> None:
    from typer.testing import CliRunner

    from socialscore.terminal.app import app
    from socialscore.modeling.transformer import finetune

    real = finetune.build_classifier
    monkeypatch.setattr(finetune, "build_classifier", lambda n, config=None, seed=42: real(n, tiny_bert_config(), seed))
    texts, Y = corpus(300, seed=1)
    data = project_dir / "comments.csv"
    pd.DataFrame({"comment_text": texts, "toxic": Y[:, 0], "insult": Y[:, 1]}).to_csv(data, index=False)
    result = CliRunner().invoke(app, [
        "run", "--mode", "dev", "--data", str(data), "--project-dir", str(project_dir),
        "--set", f"model.type={model_type}", "--set", "features.hash_bits=12", "--set", "model.batch_size=8",
        "--set", "model.learning_rate=0.001", "--set", "model.max_length=16", "--set", "model.torch_threads=1",
        "--set", "model.cascade_share=0.3", "--set", "train.time_budget_s=60",
        "--set", "features.identity_augmentation=0",  # ~1,000 probe sentences would swamp 225 train rows
    ], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    metrics = json.loads((project_dir / "reports/metrics_dev.json").read_text())
    assert metrics["model_type"] == model_type and metrics["labels"]["toxic"]["roc_auc"] > 0.8
    record = json.loads((project_dir / "models/model_metadata_dev.json").read_text())
    assert "LICENSE-all-MiniLM-L6-v2.txt" in record["files"]
    report = (project_dir / "reports/report_dev.html").read_text()
    if model_type == "cascade":
        routed = metrics["cascade"]["routed_share"]
        assert 0.05 < routed < 0.7 and "routed to the transformer" in report
        assert {"linear", "transformer"} <= set(metrics["cascade"])
    predictions = pd.read_csv(project_dir / "reports/predictions_dev.csv")  # the test split, scored
    assert len(predictions) > 0 and predictions["social_score"].between(0, 100).all()


def _weighted_f1(y: np.ndarray, p: np.ndarray, cut: float, weight: np.ndarray) -> float:
    pred = p >= cut
    tp, fp, fn = (weight * (pred & (y == 1))).sum(), (weight * (pred & (y == 0))).sum(), (weight * (~pred & (y == 1))).sum()
    return 2 * tp / (2 * tp + fp + fn)


def test_the_cascade_threshold_maximises_f1_weighted_for_the_declared_prevalence() -> None:
    """Like every model type's thresholds (training/prior.py): chosen for train.prevalence, not the
    validation rows' own rate (here 1/3 toxic, declared 0.1)."""
    from types import SimpleNamespace

    from socialscore.modeling.training.prior import prior_weights
    from socialscore.modeling.transformer.training import fit_cascade, real_rows, validation_split

    texts, Y = corpus(240)
    rng = np.random.default_rng(3)
    oof = 1 / (1 + np.exp(-(2.0 * Y - 1 + rng.normal(0, 1.2, Y.shape))))  # overlapping linear scores
    linear = SimpleNamespace(threshold=0.5, fallbacks={}, labels=["toxic", "insult"], primary_label="toxic")

    def train_linear(*_):
        return linear, {"oof_proba": oof, "thresholds": {"toxic": 0.5, "insult": 0.5}}

    settings = _settings()  # dev: train.prevalence 0.1
    settings = settings.model_copy(update={"model": settings.model.model_copy(
        update={"cascade_share": 0.0, "validation_share": 0.3})})  # nothing routed: the cascade's scores are oof
    ids = np.array([f"r{i}" for i in range(len(texts))])
    model, report = fit_cascade(None, ids, Y, ["toxic", "insult"], texts, Y, ["toxic", "insult"], "toxic",
                                settings, train_linear, tiny_bert_config())
    val = validation_split(Y, 0, 0.3, settings.model.random_state, real_rows(ids))
    weight = prior_weights(Y[val, 0], settings.train.prevalence)
    for k, label in enumerate(["toxic", "insult"]):
        y, p = Y[val, k], oof[val, k]
        best = max(_weighted_f1(y, p, cut, weight) for cut in np.unique(p))
        assert _weighted_f1(y, p, report["thresholds"][label], weight) == pytest.approx(best)
