"""evaluate: held-out rows only, metrics (null with a reason when undefined), figures, report, the gate."""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_features import make_context

from socialscore.errors import DataError, ModelError
from socialscore.modeling.behaviour.gate import GateRefused
from socialscore.modeling.training.out_of_core_blocks import CsrBlocks, NpzBlocks, gather
from socialscore.pipeline.artifacts import write_file_artifact
from socialscore.steps import evaluate as step
from socialscore.steps import features as features_step
from socialscore.steps import train as train_step

LABELS = ["toxic", "insult", "threat"]
BAD = ["idiot", "stupid", "moron", "hate", "loser", "dumb"]
GOOD = ["thanks", "great", "agree", "nice", "cheers", "helpful"]


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


# --- the step through a context -----------------------------------------------------------------
_BUILT = Path(tempfile.mkdtemp(prefix="evaluate-projects-"))  # one trained project per corpus and config
atexit.register(shutil.rmtree, _BUILT, ignore_errors=True)


def build_project(project_dir: Path, threat: bool = True, **overrides):
    """Generated comments through the real features and train steps; returns the evaluate context.

    The steps run once per corpus and config; each test gets its own copy of that project."""
    texts, y, rows = make_corpus(400, threat=threat)
    comments = rows.assign(text=texts, **{f"label_{label}": y[:, j] for j, label in enumerate(LABELS)})
    overrides.setdefault("gate", {"behaviour": [], "invariance": []})
    if not threat:
        overrides["gate"]["override"] = "threat has no positives in this test corpus"
    built = _BUILT / hashlib.sha256(json.dumps([threat, overrides], sort_keys=True).encode()).hexdigest()[:16]
    if not built.exists():
        building = Path(tempfile.mkdtemp(dir=_BUILT))  # renamed when complete: a failed build is not reused
        for name in ("features", "train"):
            ctx = make_context(building, comments, **overrides)
            ctx.step = name
            {"features": features_step, "train": train_step}[name].run(ctx)
        building.rename(built)
    shutil.copytree(built, project_dir, dirs_exist_ok=True)
    ctx = make_context(project_dir, comments, **overrides)
    ctx.step = "evaluate"
    return ctx, texts, rows


@pytest.mark.slow
def test_run_writes_metrics_figures_and_report(project_dir: Path) -> None:
    ctx, texts, rows = build_project(project_dir, threat=False)
    step.run(ctx)
    metrics = json.loads(Path(ctx.location("metrics")).read_text())
    n_test = int((rows["split"] == "test").sum())
    assert metrics["n_test_rows"] == n_test == ctx.facts["test_rows"]
    assert metrics["model_version"].startswith("nb_logistic-dev-")
    assert set(metrics["labels"]) == set(LABELS)
    assert set(metrics["thresholds"]) == set(LABELS)
    assert metrics["labels"]["toxic"]["roc_auc"] > 0.9
    assert ctx.facts["roc_auc"] == metrics["labels"]["toxic"]["roc_auc"]
    assert metrics["labels"]["threat"]["roc_auc"] is None  # no positive rows for threat
    assert metrics["gate"]["passed"] is True and metrics["gate"]["promoted_to"] == ["staging"]
    figures = Path(ctx.location("figures"))
    assert sorted(p.name for p in figures.iterdir()) == sorted(step.CAPTIONS)
    for png in figures.iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = Path(ctx.location("report")).read_text()
    assert page.count("data:image/png;base64,") == len(step.CAPTIONS) == 6
    assert "Identity-term bias" in page and metrics["bias"]["summary"]["n_probes"] > 100
    assert metrics["languages"]["training"] and metrics["languages"]["held_out_reliable_share"] > 0.5
    assert "Most confident mistakes" not in page  # off by default: reports show no comment text
    assert "no positive rows in the test split" in page
    assert "Quality gate: passed" in page
    assert not any(text in page for text in texts)  # no comment text in the report


@pytest.mark.slow
def test_run_never_scores_training_rows(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from socialscore.modeling.scorer.pipeline import ScoringPipeline

    ctx, _, rows = build_project(project_dir)
    features = gather(ctx.read("features"))
    scored: list = []
    original = ScoringPipeline.proba_from_features

    def spy(self, X):
        scored.append(X)
        return original(self, X)

    monkeypatch.setattr(ScoringPipeline, "proba_from_features", spy)
    step.run(ctx)
    ordered = pd.read_parquet(ctx.location("rows"))
    test = (ordered["split"] == "test").to_numpy()
    # the first call scores the held-out rows' features; later ones score texts (probes, language check)
    assert scored[0].shape[0] == int(test.sum()) == ctx.facts["test_rows"]
    assert (scored[0] != features[test]).nnz == 0


@pytest.mark.slow
def test_held_out_rows_are_scored_block_by_block(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, _, _ = build_project(project_dir)
    pipeline = ctx.read("model")
    X = gather(ctx.read("features"))
    directory = Path(ctx.layout.processed_dir) / "small_blocks"
    write_file_artifact("blocks", directory, (b for _, b in CsrBlocks(X, 37)))
    small = NpzBlocks(directory)
    rows = ctx.read("rows")
    index = np.flatnonzero((rows["split"] == "test").to_numpy())
    read: list[int] = []
    original = NpzBlocks.block
    monkeypatch.setattr(NpzBlocks, "block", lambda self, n: read.append(n) or original(self, n))
    proba = step.held_out_proba(small, index, pipeline)
    np.testing.assert_allclose(proba, pipeline.proba_from_features(X[index]), rtol=1e-9, atol=1e-12)
    first_test_block = index[0] // 37
    assert read == list(range(first_test_block, len(small.starts)))  # train-only blocks are never read


@pytest.mark.slow
def test_empty_test_split_is_a_clear_error(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir)
    ordered = pd.read_parquet(ctx.location("rows")).assign(split="train")
    write_file_artifact("parquet", Path(ctx.location("rows")), ordered)
    with pytest.raises(DataError, match="test split is empty"):
        step.run(ctx)


@pytest.mark.slow
def test_misaligned_artifacts_are_refused(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir)
    ordered = pd.read_parquet(ctx.location("rows"))
    write_file_artifact("parquet", Path(ctx.location("rows")), ordered.iloc[:-1])
    with pytest.raises(DataError, match="disagree"):
        step.run(ctx)


@pytest.mark.slow
def test_tampered_model_is_refused(project_dir: Path) -> None:
    ctx, _, _ = build_project(project_dir)
    with open(Path(ctx.location("model")) / "arrays.npz", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match="does not match its recorded sha256"):
        step.run(ctx)


@pytest.mark.slow
def test_a_refused_model_is_recorded_and_not_promoted(project_dir: Path) -> None:
    """An enforced gate (prod's default) that refuses: exit via GateRefused, verdict in the registry."""
    ctx, _, _ = build_project(
        project_dir,
        gate={"enforce": True, "behaviour": [{"text": "thanks great agree", "expect": "toxic"}], "invariance": []},
    )
    with pytest.raises(GateRefused, match="quality gate refused") as refused:
        step.run(ctx)
    assert "\n" not in str(refused.value) and "nothing promoted" in str(refused.value)
    record = ctx.registry.latest("dev")
    assert record["status"] == "refused" and "thanks great agree" in record["gate"]["verdict"]
    assert ctx.registry.aliases_of() == {}
    metrics = json.loads(Path(ctx.location("metrics")).read_text())
    assert metrics["gate"]["passed"] is False  # the report says why, too


@pytest.mark.slow
def test_error_analysis_is_opt_in_and_names_the_terms(project_dir: Path) -> None:
    ctx, texts, _ = build_project(project_dir, evaluate={"error_examples": 3})
    step.run(ctx)
    page = Path(ctx.location("report")).read_text()
    assert "Most confident mistakes" in page and "False negatives" in page


@pytest.mark.slow
def test_a_bias_floor_refuses_a_model(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, _, _ = build_project(
        project_dir, gate={"enforce": True, "behaviour": [], "invariance": [], "min_worst_bpsn_auc": 0.95}
    )
    real = step.behaviour

    def biased(pipeline):  # the real report, with the worst term made worse than the floor
        report = real(pipeline)
        report["summary"].update(worst_bpsn_auc=0.71, worst_bpsn_term="gay")
        return report

    monkeypatch.setattr(step, "behaviour", biased)
    with pytest.raises(GateRefused, match="worst identity BPSN AUC 0.71 .gay"):
        step.run(ctx)


@pytest.mark.slow
def test_held_out_texts_read_only_the_test_split(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Error analysis and the regression check need the held-out texts: reading the whole comments
    table for them held ~2 GB at 1M comments."""
    ctx, _, _ = build_project(project_dir, threat=False)
    reads: list[tuple[object, object]] = []
    original = type(ctx.db).read_table

    def spy(self, name, columns=None, where_split=None):  # type: ignore[no-untyped-def]
        reads.append((columns, where_split))
        return original(self, name, columns=columns, where_split=where_split)

    monkeypatch.setattr(type(ctx.db), "read_table", spy)
    step.run(ctx)
    assert reads and all(split == "test" and set(columns or ()) <= {"id", "text"} for columns, split in reads)
