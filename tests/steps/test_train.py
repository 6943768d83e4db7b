"""train: CV report, threshold, fallbacks for rare labels, artifacts, versions, bundle, sha256 checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from model_corpus import make_comments
from test_features import make_context

from socialscore.config import load_settings
from socialscore.errors import ConfigError, ModelError
from socialscore.modeling.behaviour.gate import GateRefused
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.training.estimators import SocialScoreModel, label_matrix, resolve_labels
from socialscore.modeling.training.validation import choose_threshold
from socialscore.steps import features as features_step
from socialscore.steps import train as step
from socialscore.steps.train import train_model

MODEL_TYPES = ["nb_logistic", "logistic_regression", "random_forest"]


@pytest.fixture(scope="module")
def corpus():
    comments = make_comments(240, seed=5)
    X, y, rows, meta = features_step.build_features(comments, FeatureBuilder())
    train = (rows["split"] == "train").to_numpy()
    return X, y, rows, meta, train


def settings_for(tmp: Path | None = None, **model) -> object:
    overrides = [{"model": model}] if model else None
    return load_settings("dev", tmp, overrides=overrides)


@pytest.mark.slow
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_each_type_learns_and_reports_cv(corpus, model_type: str) -> None:
    X, y, rows, meta, train = corpus
    settings = settings_for(type=model_type, n_estimators=20)
    model, report = train_model(X[train], y[train], meta["labels"], settings)
    assert model.model_type == model_type and model.labels == ["toxic", "insult", "threat"]
    assert model.primary_label == "toxic" and 0.0 < model.threshold < 1.0
    proba = model.predict_proba(X[~train])
    assert proba.shape == (int((~train).sum()), 3) and ((proba >= 0) & (proba <= 1)).all()
    toxic = report["cv"]["toxic"]
    assert len(toxic["folds"]) == 3 and toxic["mean"]["roc_auc"] > 0.9
    assert set(toxic["mean"]) == {"roc_auc", "f1", "precision", "recall"}
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y[~train, 0], proba[:, 0]) > 0.9
    importance = model.feature_importance("toxic")
    assert importance.shape == (X.shape[1],) and np.abs(importance).sum() > 0


def test_rare_and_empty_labels_fall_back(corpus) -> None:
    X, y, rows, meta, train = corpus
    y = y.copy()
    y[:, 2] = 0
    y[np.flatnonzero(train)[:2], 2] = 1  # 2 positives < 3 folds: CV skipped
    model, report = train_model(X[train], y[train], meta["labels"], settings_for())
    assert "CV skipped" in report["cv"]["threat"]["skipped"] and report["cv"]["threat"]["mean"] is None
    y[:, 2] = 0  # no positives at all: constant prior
    model, report = train_model(X[train], y[train], meta["labels"], settings_for())
    assert "constant prior" in report["fallbacks"]["threat"]
    assert np.allclose(model.predict_proba(X[:5])[:, 2], 0.0, atol=1e-3)


def test_primary_label_any_and_unknown() -> None:
    assert resolve_labels(["toxic", "insult"], "auto") == (["toxic", "insult"], "toxic")
    assert resolve_labels(["spam", "hate"], "auto") == (["spam", "hate"], "spam")
    assert resolve_labels(["toxic", "insult"], "any") == (["toxic", "insult", "any"], "any")
    assert label_matrix(np.array([[0, 1], [0, 0]]), ["toxic", "insult"], ["insult", "any"]).tolist() == [[1, 1], [0, 0]]
    with pytest.raises(ConfigError, match="nope"):
        resolve_labels(["toxic"], "nope")


def test_threshold_choices() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    p = np.array([0.1, 0.2, 0.35, 0.4, 0.6, 0.8, 0.7, 0.9])
    assert choose_threshold(y, p, "f1") == pytest.approx(0.4)
    assert choose_threshold(y, p, "fixed_0.5") == 0.5
    assert choose_threshold(y, p, "precision_at_recall_0.9") == pytest.approx(0.4)
    assert choose_threshold(np.zeros(4), p[:4], "f1") == 0.5


def test_unknown_model_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="svm"):
        SocialScoreModel("svm", ["toxic"], "toxic", {})


def _trained_project(project_dir: Path, **overrides):
    comments = make_comments(200, seed=7)
    ctx = make_context(project_dir, comments, **overrides)
    features_step.run(ctx)
    ctx = make_context(project_dir, comments, **overrides)
    ctx.step = "train"
    step.run(ctx)
    return ctx


@pytest.mark.slow
def test_step_registers_a_version_with_metadata(project_dir: Path) -> None:
    ctx = _trained_project(project_dir)
    layout = ctx.layout
    meta = json.loads(layout.model_metadata.read_text())
    for key in ("model_type", "params", "labels", "primary_label", "threshold", "thresholds", "cv", "training_rows",
                "data_hash", "data", "config", "package_version", "sklearn_version", "git_commit", "trained_at",
                "files", "model_version"):
        assert key in meta, key
    assert meta["model_version"].startswith("nb_logistic-dev-")
    assert set(meta["thresholds"]) == set(meta["labels"])
    assert meta["config"]["preprocess"]["tokenizer"] == "regex"
    pipeline = ctx.read("model")
    assert pipeline.version == meta["model_version"] and pipeline.nltk_resources == []
    assert pipeline.thresholds == meta["thresholds"]
    proba = pipeline.predict_proba(["you are an idiot", "thanks for the helpful edit"])
    assert proba[0, 0] > proba[1, 0]
    assert ctx.facts["cv_auc_toxic"] > 0.9
    record = ctx.registry.get(meta["model_version"])
    assert record["status"] == "candidate" and record["files"] == meta["files"]
    features_meta = json.loads(Path(ctx.location("features_metadata")).read_text())
    assert record["data"]["rows"] == features_meta["shape"][0] >= 200  # + the identity augmentation rows
    assert record["data"]["content_hash"] == meta["data_hash"]
    assert record["gate"]["data"]["passed"] is True
    assert not list(layout.models_dir.glob("*.pkl")), "no pickled model is written"
    step.run(ctx)  # a retrain is a new version; the old one stays
    assert len(ctx.registry.list_versions("dev")) == 2


@pytest.mark.slow
def test_a_changed_model_file_is_refused(project_dir: Path) -> None:
    ctx = _trained_project(project_dir)
    meta = json.loads(ctx.layout.model_metadata.read_text())
    path = ctx.registry.version_dir(meta["model_version"]) / "arrays.npz"
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelError, match="does not match"):
        ctx.read("model")


def test_load_model_without_training(project_dir: Path) -> None:
    ctx = make_context(project_dir, None)
    with pytest.raises(ModelError, match="train"):
        ctx.read("model")


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, message",
    [
        ("all_zero", "single class"),
        ("one_positive", "smaller class"),
        ("collapsed", "training rows"),
    ],
)
def test_gate_refuses_data_that_cannot_make_a_model(project_dir: Path, case: str, message: str) -> None:
    """All-0 labels, one positive in 5,000 rows and 500 rows collapsed to 5 never train a model."""
    n = 5 if case == "collapsed" else (5000 if case == "one_positive" else 200)
    comments = make_comments(n, seed=3)
    label_cols = [c for c in comments.columns if c.startswith("label_")]
    if case != "collapsed":
        comments[label_cols] = 0
    if case == "one_positive":
        comments.loc[comments.index[comments["split"] == "train"][0], "label_toxic"] = 1
    ctx = make_context(project_dir, comments, train={"cv_folds": 2})
    features_step.run(ctx)
    ctx = make_context(project_dir, comments, train={"cv_folds": 2})
    ctx.step = "train"
    with pytest.raises(GateRefused, match=message) as refused:
        step.run(ctx)
    assert "\n" not in str(refused.value)
    assert not ctx.layout.model_metadata.exists()
    assert ctx.registry.list_versions() == []
