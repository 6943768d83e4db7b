"""train and evaluate show their progress in rows (rows done, rows/s): plain lines when not a terminal."""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from model_corpus import make_comments
from rich.console import Console
from test_evaluate import build_project
from test_features import make_context

from socialscore.config import load_settings
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.training.out_of_core_blocks import CsrBlocks, RowRange
from socialscore.steps import evaluate as evaluate_step
from socialscore.steps import features as features_step
from socialscore.steps import train as train_step


class Recorder:
    """A ``progress(description, total)`` that keeps each phase's total and the rows it was told of."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None, list[int]]] = []

    @contextmanager
    def __call__(self, description: str, total: int | None):
        done: list[int] = []
        self.phases.append((description, total, done))
        yield done.append


def plain_console() -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=300)


@pytest.mark.slow
def test_training_counts_the_rows_of_every_fit() -> None:
    comments = make_comments(240, seed=5)
    X, y, rows, meta = features_step.build_features(comments, FeatureBuilder())
    train = (rows["split"] == "train").to_numpy()
    n, labels, folds = int(train.sum()), len(meta["labels"]), 3
    progress = Recorder()
    train_step.train_model(X[train], y[train], meta["labels"], load_settings("dev"), progress)
    (cv, cv_total, cv_done), (final, final_total, final_done) = progress.phases
    assert cv.startswith("cross-validation") and cv_total == n * (folds - 1) * labels == sum(cv_done)
    assert len(cv_done) == folds * labels  # one advance per fit, as it finishes
    assert final.startswith("final fit") and final_total == n * labels == sum(final_done)


@pytest.mark.slow
def test_out_of_core_training_counts_the_rows_of_every_block_read() -> None:
    comments = make_comments(240, seed=5)
    X, y, rows, meta = features_step.build_features(comments, FeatureBuilder())
    train = (rows["split"] == "train").to_numpy()
    settings = load_settings("dev", overrides=[{"train": {"trainer": "out_of_core"}}])
    progress = Recorder()
    blocks = RowRange(CsrBlocks(X[train].tocsr(), block_rows=50), 0, int(train.sum()))
    _, report = train_step.train_from_blocks(blocks, rows["id"].to_numpy()[train], y[train], meta["labels"],
                                             settings, progress)
    (description, total, done), = progress.phases
    assert report["trainer"] == "out_of_core" and description.startswith("out-of-core") and total is None
    assert set(done) <= {50, int(train.sum()) % 50} and sum(done) >= 2 * int(train.sum())  # sums + an epoch


def test_held_out_scoring_advances_block_by_block() -> None:
    import scipy.sparse as sp

    class Pipeline:
        labels = ["toxic"]

        @staticmethod
        def proba_from_features(X):
            return np.zeros((X.shape[0], 1))

    features = CsrBlocks(sp.csr_matrix(np.ones((12, 2))), block_rows=4)
    done: list[int] = []
    evaluate_step.held_out_proba(features, np.array([1, 2, 5, 9, 10, 11]), Pipeline(), done.append)
    assert done == [2, 1, 3]


@pytest.mark.slow
def test_the_train_step_prints_plain_progress_lines(project_dir: Path) -> None:
    comments = make_comments(200, seed=7)
    features_step.run(make_context(project_dir, comments))
    ctx = make_context(project_dir, comments)
    ctx.step, ctx.console = "train", plain_console()
    train_step.run(ctx)
    lines = ctx.console.file.getvalue().splitlines()
    assert "\x1b" not in ctx.console.file.getvalue()
    cv = next(line for line in lines if line.startswith("[train] cross-validation ("))
    assert " rows, " in cv and " rows/s, " in cv
    assert any(line.startswith("[train] final fit (") and " rows/s, " in line for line in lines)


@pytest.mark.slow
def test_the_evaluate_step_prints_plain_progress_lines(project_dir: Path) -> None:
    ctx, _, rows = build_project(project_dir, threat=False)
    ctx.console = plain_console()
    evaluate_step.run(ctx)
    n_test = int((rows["split"] == "test").sum())
    shown = ctx.console.file.getvalue()
    assert f"[evaluate] scoring the test split: {n_test:,} of {n_test:,} rows, " in shown
    assert f"[evaluate] languages of the test split: {n_test:,} of {n_test:,} rows, " in shown


def test_the_language_summary_advances_chunk_by_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    from socialscore.modeling.behaviour import language

    class Pipeline:
        languages = {"languages": ["en"]}

        @staticmethod
        def clean(texts):
            return texts

    monkeypatch.setattr(evaluate_step, "LANGUAGE_CHUNK", 4)
    monkeypatch.setattr(language.LanguageProfile, "from_state", staticmethod(lambda state: None))
    monkeypatch.setattr(language, "detect_languages", lambda texts: texts)
    monkeypatch.setattr(language, "reliable", lambda tags, profile: np.array([t == "en" for t in tags]))
    progress = Recorder()
    summary = evaluate_step.language_summary(Pipeline(), ["en"] * 6 + ["de"] * 4, progress)
    assert summary["held_out_reliable_share"] == 0.6
    assert progress.phases[0][1:] == (10, [4, 4, 2])


def test_the_language_summary_never_tags_more_than_a_chunk_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 5M comments evaluate took 5.5 GB: it tagged the whole held-out split (1M texts) in one compiled
    call, ~2.9 KB a text. The tagging is bounded by ``LANGUAGE_CHUNK`` texts a call."""
    from socialscore.modeling.behaviour import language

    class Pipeline:
        languages = {"languages": ["en"]}

        @staticmethod
        def clean(texts):
            return list(texts)

    sizes: list[int] = []

    def tag(texts):
        sizes.append(len(texts))
        return ["en"] * len(texts)

    monkeypatch.setattr(evaluate_step, "LANGUAGE_CHUNK", 3)
    monkeypatch.setattr(language.LanguageProfile, "from_state", staticmethod(lambda state: None))
    monkeypatch.setattr(language, "detect_languages", tag)
    monkeypatch.setattr(language, "reliable", lambda tags, profile: np.ones(len(tags), dtype=bool))
    evaluate_step.language_summary(Pipeline(), ["a text"] * 8)
    assert sizes == [3, 3, 2]
