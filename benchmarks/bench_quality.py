"""Model quality side by side: socialscore model types, a plain TF-IDF + LR baseline, alt-profanity-check.

    uv run --group bench python benchmarks/bench_quality.py            # the side-by-side table (req 3)
    uv run --group bench python benchmarks/bench_quality.py --sweep --learning-curve   # + what each choice buys

Held-out rows are exactly the pipeline's: the shared CSVs go through the project's own ``extract`` and
``transform`` (prod settings: every row, the hash split), features come from ``FeatureBuilder`` fitted on
the train split and models from ``train_model`` (cross-validation, Platt calibration, threshold from the
out-of-fold scores), as ``socialscore run --mode prod`` does — only called as functions, without the
database and artifacts. Every figure is measured on the test split. A missing dataset is skipped.

F1 columns: socialscore at its out-of-fold threshold (what it ships); the baseline and the peer at 0.5
and at the threshold best for F1 on the train split (the baseline on 5-fold out-of-fold scores there,
the peer on its scores of the train rows, since it is not trained here). Timings are wall seconds on a
shared machine (the load average is printed with them); quality figures do not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _shared import shared_path
from sklearn.metrics import f1_score, roc_auc_score

from socialscore.config import Settings, deep_merge, load_settings
from socialscore.modeling.featurizers.features import FeatureBuilder
from socialscore.modeling.training.estimators import (
    MODEL_TYPES,
    SocialScoreModel,
    label_matrix,
    resolve_labels,
)
from socialscore.modeling.training.validation import choose_threshold, cross_validate
from socialscore.steps.extract import extract
from socialscore.steps.features import build_features
from socialscore.steps.train import model_params, train_model
from socialscore.steps.transform import transform

SHARED = shared_path("data")
DATASETS = {
    "jigsaw-sample": SHARED / "jigsaw" / "cleaned_training_sample.csv",
    "jigsaw-10k-lower": SHARED / "jigsaw" / "train_toxic_10k_lowercased.csv",
    "davidson": SHARED / "davidson2017" / "labeled_data.csv",
}
SWEEP_DATASETS = ("jigsaw-sample", "jigsaw-10k-lower")
LATENCY_TEXTS = 200  # single-text calls timed per contender
# A random forest per label with 5-fold CV costs minutes per label on this 2-core machine (302 s for one
# label at 200 trees, load ~10), so forests are measured on the primary label only, with fewer trees.
RF_TREES = 50


# --- data -----------------------------------------------------------------------------------------
@dataclass
class Prepared:
    name: str
    clean: pd.DataFrame  # transform's output (prod settings)
    labels: list[str]  # data labels, in label-column order
    train_texts: list[str] = field(default_factory=list)
    test_texts: list[str] = field(default_factory=list)
    y_train: np.ndarray | None = None  # (n, labels) 0/1, rows in build_features' order
    y_test: np.ndarray | None = None


def prepare(name: str, path: Path, settings: Settings) -> Prepared:
    """extract + transform exactly as the pipeline does; rows ordered as build_features orders them."""
    return prepare_from_clean(
        name, transform(extract([path], settings.data).frame, settings.transform).clean
    )


def prepare_from_clean(name: str, clean: pd.DataFrame) -> Prepared:
    label_cols = [c for c in clean.columns if c.startswith("label_")]
    frame = clean.assign(_test=clean["split"].ne("train")).sort_values(
        ["_test", "id"], kind="stable"
    )
    train, test = frame[~frame["_test"]], frame[frame["_test"]]
    return Prepared(
        name,
        clean,
        [c.removeprefix("label_") for c in label_cols],
        train["text"].fillna("").tolist(),
        test["text"].fillna("").tolist(),
        train[label_cols].to_numpy().astype(np.int8),
        test[label_cols].to_numpy().astype(np.int8),
    )


# --- metrics ----------------------------------------------------------------------------------------
def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def quality(
    data: Prepared, primary: str, probs: np.ndarray, threshold: float, labels: list[str]
) -> dict[str, Any]:
    """toxic/primary AUC, F1 at ``threshold`` and at 0.5, macro-F1, mean AUC over the data labels."""
    j = labels.index(primary)
    y = data.y_test[:, data.labels.index(primary)]
    p = probs[:, j]
    aucs = [
        _auc(data.y_test[:, k], probs[:, labels.index(lab)]) for k, lab in enumerate(data.labels)
    ]
    aucs = [a for a in aucs if a is not None]
    return {
        "auc": _auc(y, p),
        "f1": float(f1_score(y, p >= threshold, zero_division=0)),
        "f1_05": float(f1_score(y, p >= 0.5, zero_division=0)),
        "macro_f1": float(f1_score(y, p >= threshold, average="macro", zero_division=0)),
        "threshold": float(threshold),
        "mean_auc": float(np.mean(aucs)) if len(data.labels) > 1 and aucs else None,
        "_y": y,  # kept in memory for the paired bootstrap, not written to JSON
        "_p": p,
    }


def add_auc_intervals(
    results: dict[str, dict[str, Any]], reference: str, rounds: int = 1000
) -> None:
    """Paired bootstrap over the test rows: 95% interval of each contender's AUC minus the reference's."""
    ref = results[reference]
    y = ref["_y"]
    rng = np.random.default_rng(0)
    samples = [rng.integers(0, len(y), len(y)) for _ in range(rounds)]
    samples = [i for i in samples if 0 < y[i].sum() < len(i)]
    for name, r in results.items():
        if name == reference or r.get("_p") is None:
            continue
        diffs = [
            roc_auc_score(y[i], r["_p"][i]) - roc_auc_score(y[i], ref["_p"][i]) for i in samples
        ]
        r["auc_diff_ci"] = [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))]


def speed(score: Callable[[list[str]], np.ndarray], texts: list[str]) -> dict[str, float]:
    """Batch texts/s over ``texts`` and the median milliseconds of one-text calls."""
    t0 = time.perf_counter()
    score(texts)
    batch = time.perf_counter() - t0
    singles = []
    for text in texts[:LATENCY_TEXTS]:
        t0 = time.perf_counter()
        score([text])
        singles.append(time.perf_counter() - t0)
    return {"texts_per_s": len(texts) / batch, "single_ms": 1000 * statistics.median(singles)}


# --- contenders ------------------------------------------------------------------------------------
def settings_for(base: Settings, overrides: dict[str, Any]) -> Settings:
    return Settings.model_validate(deep_merge(base.model_dump(), overrides))


class FeatureCache:
    """FeatureBuilder fits per (dataset, preprocess + features settings): model variants share them."""

    def __init__(self) -> None:
        self._cache: dict[
            tuple[str, str], tuple[FeatureBuilder, sp.csr_matrix, sp.csr_matrix, float]
        ] = {}

    def get(
        self, data: Prepared, settings: Settings
    ) -> tuple[FeatureBuilder, sp.csr_matrix, sp.csr_matrix, float]:
        key = (
            data.name,
            json.dumps(
                [settings.preprocess.model_dump(), settings.features.model_dump()], default=str
            ),
        )
        if key not in self._cache:
            builder = FeatureBuilder.from_settings(settings)
            t0 = time.perf_counter()
            x, _, rows, _ = build_features(data.clean, builder)
            seconds = (
                time.perf_counter() - t0
            )  # fit on train + transform test, as the features step
            train = (rows["split"] == "train").to_numpy()
            self._cache[key] = (builder, x[train], x[~train], seconds)
        return self._cache[key]


def run_socialscore(data: Prepared, settings: Settings, cache: FeatureCache) -> dict[str, Any]:
    builder, x_train, x_test, feature_s = cache.get(data, settings)
    t0 = time.perf_counter()
    model, _ = train_model(x_train, data.y_train, data.labels, settings)
    train_s = time.perf_counter() - t0
    result = quality(
        data, model.primary_label, model.predict_proba(x_test), model.threshold, model.labels
    )
    result.update(features_s=feature_s, train_s=train_s)
    result.update(
        speed(lambda texts: model.predict_proba(builder.transform(texts)), data.test_texts)
    )
    result["n_features"] = int(x_train.shape[1])
    return result


def fit_with_oof(
    model_type: str,
    settings: Settings,
    x: sp.csr_matrix,
    y_data: np.ndarray,
    data_labels: list[str],
) -> tuple[SocialScoreModel, np.ndarray]:
    """train_model's steps (CV, fit, Platt) returning the calibrated out-of-fold probabilities too."""
    labels, primary = resolve_labels(data_labels, settings.train.primary_label)
    y = label_matrix(y_data, data_labels, labels)
    params = model_params(settings)
    cv = cross_validate(model_type, params, x, y, labels, settings.train.cv_folds)
    model = SocialScoreModel(model_type, labels, primary, params).fit(x, y)
    model.fallbacks.update({k: v for k, v in cv.skipped.items() if k not in model.fallbacks})
    model.calibrate(cv.raw_oof, y)
    return model, model.calibrated(cv.raw_oof)


def run_ensemble(
    data: Prepared,
    settings: Settings,
    cache: FeatureCache,
    types: tuple[str, ...],
    weights: tuple[float, ...],
) -> dict[str, Any]:
    """Weighted mean of calibrated probabilities of several model types; threshold from the blended OOF."""
    builder, x_train, _, feature_s = cache.get(data, settings)
    t0 = time.perf_counter()
    fitted = [fit_with_oof(t, settings, x_train, data.y_train, data.labels) for t in types]
    train_s = time.perf_counter() - t0
    models = [m for m, _ in fitted]
    w = np.asarray(weights) / np.sum(weights)
    oof = sum(wi * o for wi, (_, o) in zip(w, fitted, strict=True))
    labels, j = models[0].labels, models[0].labels.index(models[0].primary_label)
    y = label_matrix(data.y_train, data.labels, labels)[:, j]
    scored = ~np.isnan(oof[:, j])
    threshold = choose_threshold(y[scored], oof[scored, j], settings.train.threshold_metric)

    def score(texts: list[str]) -> np.ndarray:
        x = builder.transform(texts)
        return sum(wi * m.predict_proba(x) for wi, m in zip(w, models, strict=True))

    result = quality(data, models[0].primary_label, score(data.test_texts), threshold, labels)
    result.update(features_s=feature_s, train_s=train_s, n_features=int(x_train.shape[1]))
    result.update(speed(score, data.test_texts))
    return result


def run_baseline(data: Prepared, primary: str) -> dict[str, Any]:
    """sklearn defaults: TfidfVectorizer (word unigrams) + LogisticRegression, one per label."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    t0 = time.perf_counter()
    vec = TfidfVectorizer()
    x_train = vec.fit_transform(data.train_texts)
    fitted = [
        LogisticRegression().fit(x_train, data.y_train[:, k])
        if 0 < data.y_train[:, k].sum() < x_train.shape[0]
        else None
        for k in range(len(data.labels))
    ]
    train_s = time.perf_counter() - t0
    j = data.labels.index(primary)
    oof = cross_val_predict(
        LogisticRegression(),
        x_train,
        data.y_train[:, j],
        cv=StratifiedKFold(5, shuffle=True, random_state=42),
        method="predict_proba",
    )[:, 1]
    threshold = choose_threshold(data.y_train[:, j], oof, "f1")

    def score(texts: list[str]) -> np.ndarray:
        x = vec.transform(texts)
        out = np.zeros((len(texts), len(fitted)))
        for k, lr in enumerate(fitted):
            out[:, k] = lr.predict_proba(x)[:, 1] if lr is not None else data.y_train[:, k].mean()
        return out

    result = quality(data, primary, score(data.test_texts), threshold, data.labels)
    result.update(features_s=None, train_s=train_s, n_features=len(vec.vocabulary_))
    result.update(speed(score, data.test_texts))
    return result


def run_peer(data: Prepared, primary: str) -> dict[str, Any] | None:
    """alt-profanity-check's shipped model: one score, used for every label's AUC."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        print(
            "  alt-profanity-check not installed: run with `uv run --group bench`", file=sys.stderr
        )
        return None
    j = data.labels.index(primary)
    threshold = choose_threshold(data.y_train[:, j], predict_prob(data.train_texts), "f1")

    def score(texts: list[str]) -> np.ndarray:
        return np.repeat(np.asarray(predict_prob(texts))[:, None], len(data.labels), axis=1)

    result = quality(data, primary, score(data.test_texts), threshold, data.labels)
    result.update(features_s=None, train_s=None, n_features=None)
    result.update(speed(score, data.test_texts))
    return result


# --- runs ---------------------------------------------------------------------------------------------
def side_by_side(data: Prepared, base: Settings, cache: FeatureCache) -> dict[str, dict[str, Any]]:
    primary = resolve_labels(data.labels, base.train.primary_label)[1]
    out: dict[str, dict[str, Any]] = {}
    for model_type in MODEL_TYPES:
        _progress(data.name, model_type)
        if model_type == "random_forest":
            rf = settings_for(base, {"model": {"type": model_type, "n_estimators": RF_TREES}})
            out[f"socialscore random_forest ({RF_TREES} trees, {primary} only)"] = run_socialscore(
                primary_only(data, primary), rf, cache
            )
            continue
        out[f"socialscore {model_type}"] = run_socialscore(
            data, settings_for(base, {"model": {"type": model_type}}), cache
        )
    _progress(data.name, "baseline")
    out["baseline tfidf+LR"] = run_baseline(data, primary)
    _progress(data.name, "alt-profanity-check")
    peer = run_peer(data, primary)
    if peer is not None:
        out["alt-profanity-check"] = peer
    add_auc_intervals(out, f"socialscore {base.model.type}")
    return out


# Each variant is a config override of the prod defaults (one change at a time), or an ensemble.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "word 1-2 only (no char)": {"features": {"char_ngram_range": None}},
    "word 1 only (no char)": {"features": {"char_ngram_range": None, "word_ngram_range": (1, 1)}},
    "char 2-5 only (no word)": {"features": {"word_ngram_range": None}},
    "char 1-5": {"features": {"char_ngram_range": (1, 5)}},
    "char 2-6": {"features": {"char_ngram_range": (2, 6)}},
    "min_df 1": {"features": {"min_df": 1}},
    "min_df 3": {"features": {"min_df": 3}},
    "no engineered features": {"features": {"engineered": False}},
    "no leetspeak/elongation normalising": {
        "preprocess": {"normalize_leetspeak": False, "normalize_elongation": False}
    },
    "no NB weighting (logistic_regression)": {"model": {"type": "logistic_regression"}},
    "nb_alpha 0.5": {"model": {"nb_alpha": 0.5}},
    "class_weight balanced": {"model": {"class_weight": "balanced"}},
    "sgd alpha 1e-5": {"model": {"alpha": 1e-5}},
    "sgd alpha 1e-4": {"model": {"alpha": 1e-4}},
    "sgd 20 epochs": {"model": {"epochs": 20}},
    "liblinear C=4": {"model": {"solver": "liblinear", "C": 4.0}},
    "liblinear C=1": {"model": {"solver": "liblinear", "C": 1.0}},
    "liblinear C=16": {"model": {"solver": "liblinear", "C": 16.0}},
    "threshold fixed 0.5": {"train": {"threshold_metric": "fixed_0.5"}},
}
ENSEMBLES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "ensemble nb_logistic + random_forest (calibrated, 1:1)": (
        ("nb_logistic", "random_forest"),
        (1.0, 1.0),
    ),
    "ensemble nb_logistic + random_forest (calibrated, 2:1)": (
        ("nb_logistic", "random_forest"),
        (2.0, 1.0),
    ),
    "ensemble nb_logistic + logistic_regression (1:1)": (
        ("nb_logistic", "logistic_regression"),
        (1.0, 1.0),
    ),
}


def sweep(
    data: Prepared, base: Settings, cache: FeatureCache, only: list[str] | None
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, override in VARIANTS.items():
        if only and not any(o in name for o in only):
            continue
        _progress(data.name, name)
        out[name] = run_socialscore(data, settings_for(base, override), cache)
        _done(name, out[name])
    primary = resolve_labels(data.labels, base.train.primary_label)[1]
    for name, (types, weights) in ENSEMBLES.items():
        if only and not any(o in name for o in only):
            continue
        _progress(data.name, name)
        if "random_forest" in types:
            rf = settings_for(base, {"model": {"n_estimators": RF_TREES}})
            out[f"{name} ({RF_TREES} trees, {primary} only)"] = run_ensemble(
                primary_only(data, primary), rf, cache, types, weights
            )
        else:
            out[name] = run_ensemble(data, base, cache, types, weights)
    return out


def primary_only(data: Prepared, primary: str) -> Prepared:
    """The same rows with only the primary label (mean AUC is then not computed)."""
    k = data.labels.index(primary)
    return Prepared(
        data.name,
        data.clean,
        [primary],
        data.train_texts,
        data.test_texts,
        data.y_train[:, [k]],
        data.y_test[:, [k]],
    )


def learning_curve(
    data: Prepared, base: Settings, fractions: tuple[float, ...]
) -> dict[str, dict[str, Any]]:
    """The default model trained on a random share of the train split, scored on the same test split."""
    out: dict[str, dict[str, Any]] = {}
    train_ids = data.clean.loc[data.clean["split"] == "train", "id"].to_numpy()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train_ids))
    for fraction in fractions:
        keep = set(train_ids[order[: round(fraction * len(train_ids))]])
        subset = data.clean[(data.clean["split"] != "train") | data.clean["id"].isin(keep)]
        name = f"{fraction:.0%} of train ({len(keep)} rows)"
        _progress(data.name, name)
        sub = prepare_from_clean(data.name + f"@{fraction}", subset)
        out[name] = run_socialscore(sub, base, FeatureCache())
        _done(name, out[name])
    return out


def _done(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name}: AUC {_fmt(r['auc'])}, F1 {r['f1']:.4f}, mean AUC {_fmt(r['mean_auc'])}",
        file=sys.stderr,
        flush=True,
    )


def _progress(dataset: str, what: str) -> None:
    print(f"… {dataset}: {what} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


# --- output -------------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(results: dict[str, dict[str, Any]], davidson: bool) -> str:
    head = ["contender", "toxic AUC", "F1 (thr)", "F1 @0.5"]
    head += ["macro-F1"] if davidson else ["mean AUC (6)"]
    head += ["features s", "train s", "texts/s", "1 text ms"]
    intervals = any("auc_diff_ci" in r for r in results.values())
    head += ["ΔAUC vs default, 95% CI"] if intervals else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        cells = [
            name,
            _fmt(r["auc"]),
            f"{r['f1']:.4f} ({r['threshold']:.2f})",
            _fmt(r["f1_05"]),
            _fmt(r["macro_f1"] if davidson else r["mean_auc"]),
            _fmt(r["features_s"], 1),
            _fmt(r["train_s"], 1),
            f"{r['texts_per_s']:,.0f}",
            f"{r['single_ms']:.2f}",
        ]
        if intervals:
            ci = r.get("auc_diff_ci")
            cells.append(f"{ci[0]:+.4f} … {ci[1]:+.4f}" if ci else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def header() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}, {os.cpu_count()} CPUs, "
        f"load average {load}, Python {platform.python_version()}"
    )


def _public(value: Any) -> Any:
    """``value`` without the in-memory ``_``-prefixed entries (scores per row)."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_")}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--sweep", action="store_true", help="also measure each modelling choice (req 4)"
    )
    parser.add_argument(
        "--no-side-by-side", action="store_true", help="skip the side-by-side table"
    )
    parser.add_argument(
        "--variants", nargs="*", help="sweep only variants whose name contains one of these"
    )
    parser.add_argument(
        "--learning-curve",
        action="store_true",
        help="also train the default on 25/50/100%% of the train split",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)

    # SGD runs a fixed number of epochs (tol=None) by design; its "max_iter reached" is not news here.
    warnings.filterwarnings("ignore", message="Maximum number of iteration reached")
    base = load_settings("prod")
    cache = FeatureCache()
    report: dict[str, Any] = {
        "header": header(),
        "side_by_side": {},
        "sweep": {},
        "learning_curve": {},
    }
    print(report["header"])
    for name in args.datasets:
        path = DATASETS[name]
        if not path.exists():
            print(f"\n## {name}: skipped ({path} not found)")
            continue
        t0 = time.perf_counter()
        data = prepare(name, path, base)
        n_pos = int(data.y_test[:, data.labels.index(resolve_labels(data.labels, "auto")[1])].sum())
        print(
            f"\n## {name}: {len(data.train_texts)} train / {len(data.test_texts)} test rows "
            f"({n_pos} positive in test), labels {', '.join(data.labels)}; prepared in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        if not args.no_side_by_side:
            results = side_by_side(data, base, cache)
            report["side_by_side"][name] = results
            print(table(results, name == "davidson"), flush=True)
        if args.sweep and name in SWEEP_DATASETS:
            results = sweep(data, base, cache, args.variants)
            report["sweep"][name] = results
            print(f"\n### {name}: one change at a time from the prod defaults\n")
            print(table(results, False), flush=True)
        if args.learning_curve and name in SWEEP_DATASETS:
            results = learning_curve(data, base, (0.25, 0.5, 1.0))
            report["learning_curve"][name] = results
            print(f"\n### {name}: the default model on a share of the train split\n")
            print(table(results, False), flush=True)
    print(f"\nload average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(_public(report), indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
