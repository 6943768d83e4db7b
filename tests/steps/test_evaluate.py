"""evaluate: held-out rows only, metrics (null with a reason when undefined), figures, report, bundle.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from stand_ins import TinyModel, TinyVectorizer

from socialscore.bundle import dump_verified
from socialscore.config import load_settings
from socialscore.errors import DataError, ModelError
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import write_file_artifact
from socialscore.pipeline.context import StepContext
from socialscore.steps import evaluate as step

LABELS = ["toxic", "insult", "threat"]
BAD = ["idiot", "stupid", "moron", "hate", "loser", "dumb"]
GOOD = ["thanks", "great", "agree", "nice", "cheers", "helpful"]


class TrainRowSpy(TinyModel):
    """Refuses any row whose marker feature (last column) says it is a training row."""

    def predict_proba(self, X) -> np.ndarray:
        if X[:, -1].sum() != 0:
            raise AssertionError("evaluate scored a training row")
        return super().predict_proba(X[:, :-1])

    def feature_importance(self, label: str) -> np.ndarray:
        return np.append(super().feature_importance(label), 0.0)


def make_corpus(
    n: int, seed: int = 0, threat: bool = True
) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for _ in range(n):
        toxic = rng.random() < 0.35
        words = list(rng.choice(BAD if toxic else GOOD, 3)) + [str(rng.choice(GOOD + BAD))]
        texts.append(" ".join(words))
        y.append([toxic, toxic and "idiot" in words, threat and toxic and "hate" in words])
    split = np.where(np.arange(n) % 4 == 0, "test", "train")
    rows = pd.DataFrame({"id": [f"c{i}" for i in range(n)], "split": split})
    return texts, np.asarray(y, dtype=np.int8), rows


# --- pure metrics -------------------------------------------------------------------------------
def test_label_metrics_match_hand_computed_values() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    m = step.label_metrics(y, p, 0.5)
    assert (m["accuracy"], m["precision"], m["recall"], m["f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.36 + 0.36) / 4)
    assert m["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert m["reasons"] == {}


def test_no_positive_rows_gives_null_metrics_with_reasons() -> None:
    y = np.zeros((5, 2), dtype=np.int8)
    y[:2, 0] = 1
    p = np.tile([0.1, 0.8, 0.3, 0.2, 0.05], (2, 1)).T
    metrics = step.compute_metrics(y, p, ["toxic", "threat"], {"toxic": 0.5, "threat": 0.5})
    threat = metrics["labels"]["threat"]
    for key in ("recall", "roc_auc", "pr_auc"):
        assert threat[key] is None
        assert "no positive rows" in threat["reasons"][key]
    assert (
        threat["precision"] == 0.0 and threat["f1"] == 0.0
    )  # one false positive: both defined (0)
    assert threat["accuracy"] == pytest.approx(0.8) and threat["brier"] is not None
    macro = metrics["macro"]
    assert macro["roc_auc"] == metrics["labels"]["toxic"]["roc_auc"]
    assert "1 of 2 labels" in macro["reasons"]["roc_auc"]
    json.dumps(metrics, allow_nan=False)  # valid JSON: null, never NaN


def test_all_positive_label_has_no_roc_auc() -> None:
    m = step.label_metrics(np.ones(3), np.array([0.2, 0.7, 0.9]), 0.5)
    assert m["roc_auc"] is None and "no negative rows" in m["reasons"]["roc_auc"]


def test_per_label_thresholds() -> None:
    assert step.label_thresholds({"toxic": 0.3}, ["toxic", "insult"]) == {
        "toxic": 0.3,
        "insult": 0.5,
    }
    assert step.label_thresholds(0.42, ["a", "b"]) == {"a": 0.42, "b": 0.42}


# --- the step through a context -----------------------------------------------------------------
def build_project(
    project_dir: Path, model_cls=TinyModel, marker: bool = False, threat: bool = True
):
    settings = load_settings("dev", project_dir)
    layout = Layout(project_dir, "dev")
    layout.ensure()
    ctx = StepContext("evaluate", settings, layout, logging.getLogger("test"))
    texts, y, rows = make_corpus(400, threat=threat)
    train = (rows["split"] == "train").to_numpy()
    vec = TinyVectorizer().fit([t for t, keep in zip(texts, train, strict=True) if keep])
    X = vec.transform(texts)
    if marker:
        X = sp.hstack([X, sp.csr_matrix(train.astype(float)[:, None])]).tocsr()
    model = model_cls(LABELS).fit(X[train][:, : X.shape[1] - int(marker)], y[train])
    write_file_artifact("npz", Path(ctx.location("features")), X)
    write_file_artifact("npy", Path(ctx.location("labels")), y)
    write_file_artifact("parquet", Path(ctx.location("rows")), rows)
    write_file_artifact("json", Path(ctx.location("features_metadata")), {"labels": LABELS})
    write_file_artifact("joblib", Path(ctx.location("vectorizer")), vec)
    digest = dump_verified(model, Path(ctx.location("model")))
    meta = {
        "model_type": settings.model.type,
        "labels": LABELS,
        "primary_label": "toxic",
        "threshold": 0.5,
        "model_version": "20250101T000000-abc",
        "sha256": digest,
    }
    write_file_artifact("json", Path(ctx.location("model_metadata")), meta)
    return ctx, texts, rows


def test_run_writes_metrics_figures_and_report(project_dir: Path) -> None:
    ctx, texts, rows = build_project(project_dir, threat=False)
    step.run(ctx)
    metrics = json.loads(Path(ctx.location("metrics")).read_text())
    n_test = int((rows["split"] == "test").sum())
    assert metrics["n_test_rows"] == n_test == ctx.facts["test_rows"]
    assert metrics["model_version"] == "20250101T000000-abc"
    assert set(metrics["labels"]) == set(LABELS)
    assert metrics["labels"]["toxic"]["roc_auc"] > 0.9
    assert ctx.facts["roc_auc"] == metrics["labels"]["toxic"]["roc_auc"]
    assert metrics["labels"]["threat"]["roc_auc"] is None  # no positive rows for threat
    figures = Path(ctx.location("figures"))
    assert sorted(p.name for p in figures.iterdir()) == sorted(step.CAPTIONS)
    for png in figures.iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = Path(ctx.location("report")).read_text()
    assert page.count("data:image/png;base64,") == 5
    assert "no positive rows in the test split" in page
    assert not any(text in page for text in texts)  # no comment text in the report


def test_run_never_scores_training_rows(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir, model_cls=TrainRowSpy, marker=True)
    step.run(ctx)  # the spy raises if a training row reaches the model
    assert ctx.facts["test_rows"] == int((rows["split"] == "test").sum())


def test_empty_test_split_is_a_clear_error(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir)
    rows["split"] = "train"
    write_file_artifact("parquet", Path(ctx.location("rows")), rows)
    with pytest.raises(DataError, match="test split is empty"):
        step.run(ctx)


def test_misaligned_artifacts_are_refused(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir)
    write_file_artifact("parquet", Path(ctx.location("rows")), rows.iloc[:-1])
    with pytest.raises(DataError, match="disagree"):
        step.run(ctx)


def test_tampered_model_is_refused(project_dir: Path) -> None:
    ctx, _, _ = build_project(project_dir)
    with open(ctx.location("model"), "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match="does not match its metadata"):
        step.run(ctx)


@pytest.mark.parametrize("version, expected", [("20250101T000000-abc", True), ("older", False)])
def test_bundle_json_gets_test_metrics_only_for_the_same_version(
    project_dir: Path, version: str, expected: bool
) -> None:
    ctx, _, _ = build_project(project_dir)
    manifest_path = ctx.layout.serving_manifest
    manifest_path.write_text(json.dumps({"model_version": version, "files": {"model.joblib": "x"}}))
    step.run(ctx)
    manifest = json.loads(manifest_path.read_text())
    assert ("test_metrics" in manifest) is expected
    assert manifest["files"] == {"model.joblib": "x"}
    if expected:
        assert manifest["test_metrics"]["n_test_rows"] == ctx.facts["test_rows"]
        assert manifest["test_metrics"]["labels"]["toxic"]["roc_auc"] == ctx.facts["roc_auc"]
