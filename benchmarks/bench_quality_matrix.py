"""Cross-dataset quality: train on each shared dataset, score its own held-out split and every other one's.

    uv run python benchmarks/bench_quality_matrix.py                          # every dataset and model found
    uv run python benchmarks/bench_quality_matrix.py --models nb_logistic logistic_regression --max-rows 8000
    uv run python benchmarks/bench_quality_matrix.py --docs docs/benchmarks.md  # also write the section there

The successor of ``bench_quality.py`` for choosing defaults. Each dataset goes through the pipeline's own
functions as ``socialscore run --mode prod`` calls them (extract, transform with the hash split, the
train-split mitigations, the featurizer ``features.vectorizer`` picks, ``train_model``: cross-validation,
calibration for the declared base rate, the threshold from out-of-fold scores), without the database.
Every trained model then scores the held-out (test) split of every dataset, on that dataset's task label
(``toxic``; Davidson's derived ``toxic`` = hate or offensive). Figures: ROC AUC and macro-F1 (both classes'
F1 averaged, at the model's own threshold). A missing dataset is skipped.

Model types are entries of ``MODELS`` (name → config overrides, or a ``Contender`` for a model that is not
a ``model.type`` override, such as a future transformer): add one there. ``--max-rows`` caps every dataset
(the stratified ``transform.sample_size``) to keep the run short on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

from socialscore.config import Settings, deep_merge, load_settings
from socialscore.modeling.featurizers.factory import featurizer_from_settings, resolved_vectorizer
from socialscore.modeling.behaviour.mitigation import mitigate_train_split
from socialscore.steps.extract import extract
from socialscore.steps.features import build_features
from socialscore.steps.train import train_model
from socialscore.steps.transform import transform

ROOT = Path(__file__).resolve().parents[1]
from _shared import shared_dir  # noqa: E402

SHARED = shared_dir()
TASK_LABEL = "toxic"
# name → (file under the shared directory, data config overrides)
DATASETS: dict[str, tuple[str, dict[str, Any]]] = {
    "jigsaw-sample": ("data/jigsaw/cleaned_training_sample.csv", {}),
    "jigsaw-10k-lower": ("data/jigsaw/train_toxic_10k_lowercased.csv", {}),
    "davidson": ("data/davidson2017/labeled_data.csv", {"label_columns": ["toxic"]}),
}
RF_TREES = 50  # forests are slow on 2 cores: fewer trees than prod's 200 (said in the output)

Scorer = Callable[[list[str]], np.ndarray]  # texts → the task label's probability


@dataclass
class Contender:
    """A model type to compare: ``train(data, settings) -> (scorer, threshold)``."""

    name: str
    train: Callable[[Prepared, Settings], tuple[Scorer, float]]


@dataclass
class Prepared:
    name: str
    clean: pd.DataFrame  # transform's output
    test_texts: list[str]
    y_test: np.ndarray  # the task label on the test split


def prepare(name: str, path: Path, base: Settings, data_overrides: dict[str, Any], max_rows: int | None) -> Prepared:
    settings = settings_for(base, {"data": data_overrides, "transform": {"sample_size": max_rows}})
    clean = transform(extract([path], settings.data).frame, settings.transform).clean
    test = clean[clean["split"] != "train"]
    return Prepared(name, clean, test["text"].fillna("").astype(str).tolist(),
                    test[f"label_{TASK_LABEL}"].to_numpy().astype(int))


def settings_for(base: Settings, overrides: dict[str, Any]) -> Settings:
    return Settings.model_validate(deep_merge(base.model_dump(), overrides))


def train_linear(data: Prepared, settings: Settings) -> tuple[Scorer, float]:
    """What the features and train steps do: mitigations, the chosen featurizer, CV, calibration, threshold."""
    comments = mitigate_train_split(data.clean, settings.features)
    builder = featurizer_from_settings(settings, n_rows=len(data.clean))
    x, y, rows, meta = build_features(comments, builder)
    train = (rows["split"] == "train").to_numpy()
    model, _ = train_model(x[train], y[train], meta["labels"], settings)
    j = model.labels.index(TASK_LABEL)
    return (lambda texts: model.predict_proba(builder.transform(texts))[:, j]), model.threshold


def model_type(name: str, overrides: dict[str, Any]) -> Contender:
    def train(data: Prepared, base: Settings) -> tuple[Scorer, float]:
        settings = settings_for(base, overrides)
        if settings.model.type == "random_forest":  # the task label only: forests cost minutes per label
            settings = settings_for(settings, {"train": {"primary_label": TASK_LABEL}})
            only = data.clean.drop(columns=[c for c in data.clean if c.startswith("label_") and c != f"label_{TASK_LABEL}"])
            data = Prepared(data.name, only, data.test_texts, data.y_test)
        return train_linear(data, settings)

    return Contender(name, train)


MODELS: dict[str, Contender] = {
    "nb_logistic": model_type("nb_logistic", {}),
    "nb_logistic, hashing": model_type("nb_logistic, hashing", {"features": {"vectorizer": "hashing"}}),
    "logistic_regression": model_type("logistic_regression", {"model": {"type": "logistic_regression"}}),
    "random_forest": model_type(
        "random_forest", {"model": {"type": "random_forest", "n_estimators": RF_TREES}}
    ),
}


def scores(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float | None, float]:
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    return auc, float(f1_score(y, p >= threshold, average="macro", zero_division=0))


def matrix_tables(results: dict[tuple[str, str, str], tuple[float | None, float]], datasets: list[str],
                  models: list[str]) -> str:
    """Two markdown tables (ROC AUC, macro-F1): a row per (model, trained on), a column per scored dataset."""
    out = []
    for k, title in ((0, "ROC AUC"), (1, "macro-F1")):
        caption = (f"**{title}** of `{TASK_LABEL}` (rows: model, trained on; columns: held-out split scored; "
                   "the diagonal is in-domain)")
        lines = [caption, "",
                 "| model | trained on | " + " | ".join(datasets) + " |", "|---|---|" + "---|" * len(datasets)]
        for model in models:
            for trained in datasets:
                cells = []
                for scored in datasets:
                    value = results.get((model, trained, scored))
                    text = "–" if value is None or value[k] is None else f"{value[k]:.3f}"
                    cells.append(f"**{text}**" if trained == scored and text != "–" else text)
                if any(c != "–" for c in cells):
                    lines.append(f"| {model} | {trained} | " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def write_docs(path: Path, section: str, body: str) -> None:
    """Replace the section titled ``section`` (up to the next ``## ``) in ``path``, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"## {section}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: block + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--max-rows", type=int, help="cap each dataset (stratified sample) for a shorter run")
    parser.add_argument("--docs", type=Path, help="write the tables as a section of this markdown file")
    parser.add_argument("--section", default="Quality across datasets (bench_quality_matrix.py)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Maximum number of iteration reached")
    base = load_settings("prod")
    cpu0 = time.process_time()
    header = (f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
              f"Python {platform.python_version()}; prod settings"
              + (f", each dataset capped at {args.max_rows:,} rows (stratified)" if args.max_rows else ", all rows"))
    print(header, flush=True)
    prepared: dict[str, Prepared] = {}
    notes = []
    for name in args.datasets:
        relative, data_overrides = DATASETS[name]
        path = SHARED / relative
        if not path.exists():
            print(f"{name}: skipped ({path} not found)", file=sys.stderr)
            continue
        prepared[name] = data = prepare(name, path, base, data_overrides, args.max_rows)
        n_train = int((data.clean["split"] == "train").sum())
        chosen = resolved_vectorizer(base.features, len(data.clean))
        notes.append(f"{name}: {n_train:,} train / {len(data.test_texts):,} test rows, "
                     f"{int(data.y_test.sum()):,} test positives; default featurizer {chosen}")
        print(notes[-1], flush=True)
    results: dict[tuple[str, str, str], tuple[float | None, float]] = {}
    for model in args.models:
        for trained, data in prepared.items():
            t0, c0 = time.perf_counter(), time.process_time()
            scorer, threshold = MODELS[model].train(data, base)
            for scored, other in prepared.items():
                results[(model, trained, scored)] = scores(other.y_test, scorer(other.test_texts), threshold)
            cells = ", ".join(f"{s} AUC {_fmt(results[(model, trained, s)][0])} F1 {results[(model, trained, s)][1]:.3f}"
                              for s in prepared)
            print(f"{model} on {trained}: {cells} ({time.process_time() - c0:.0f} CPU-s, "
                  f"{time.perf_counter() - t0:.0f} s wall)", flush=True)
    tables = matrix_tables(results, list(prepared), args.models)
    cpu = time.process_time() - cpu0
    footer = f"{cpu:,.0f} CPU-s in the benchmark process (feature counting workers not included); random_forest: {RF_TREES} trees, task label only"
    print("\n" + tables + "\n\n" + footer)
    if args.docs:
        body = "\n".join([header + ".", "", *(f"- {n}" for n in notes), "", tables, "", footer + "."])
        write_docs(args.docs, args.section, body)
    return 0


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
