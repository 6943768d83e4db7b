"""Identity-term bias mitigations side by side, on every shared dataset's held-out split and the probes.

    uv run python benchmarks/bench_bias.py --mode dev                       # quick look (5,000-row samples)
    uv run python benchmarks/bench_bias.py --mode prod --out docs/figures/bench_bias.json   # the table

Each dataset goes through the project's own extract + transform (the pipeline's hash split), features
come from the configured featurizer (``features.vectorizer``, hashing by default) fitted on the (possibly augmented) train split and the model from
``train_model`` (cross-validation, Platt calibration, F1 threshold on out-of-fold scores) with the
settings of ``--mode``. For every variant: held-out ROC AUC of the primary label (``toxic``), and on the
evaluation probes (``socialscore.modeling.behaviour.probes``, disjoint from the augmentation sentences) at the
model's own threshold: FPR on non-toxic identity statements, kind sentences flagged, worst per-term
BPSN AUC and the final bias score. Wall seconds are on a shared 2-core machine (load printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import DATASETS, Prepared, prepare, prepare_from_clean

from socialscore.config import Settings, deep_merge, load_settings
from socialscore.modeling.behaviour import mitigation
from socialscore.modeling.behaviour.bias import auc, bias_report, plot_bias
from socialscore.modeling.behaviour.mitigation import (
    apply_column_weights,
    column_weights,
    mitigate_train_split,
)
from socialscore.modeling.behaviour.probes import augmentation_sentences
from socialscore.modeling.featurizers.factory import featurizer_from_settings
from socialscore.modeling.training.estimators import resolve_labels
from socialscore.steps.train import train_model

ISSUE_EXAMPLES = ["you are a genius", "you are kind", "I love my gay friends", "I am a proud muslim woman"]
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "augment": {"augment": 1},
    "augment x2": {"augment": 2},
    "augment x5": {"augment": 5},
    "lexicon without identity": {"lexicon": False},
    "identity n-grams x0.3": {"identity_weight": 0.3},
    "no second-person n-grams": {"second_person_weight": 0.0},
    "negatives x2": {"negatives": 2},
    "augment + lexicon": {"augment": 1, "lexicon": False},
    "augment x2 + lexicon": {"augment": 2, "lexicon": False},
    "augment x5 + lexicon": {"augment": 5, "lexicon": False},
    "augment x2 + lexicon + identity x0.3": {"augment": 2, "lexicon": False, "identity_weight": 0.3},
    "augment x2 + lexicon + no second-person": {"augment": 2, "lexicon": False, "second_person_weight": 0.0},
    "augment x2 + lexicon + negatives x2": {"augment": 2, "lexicon": False, "negatives": 2},
    "augment + lexicon + negatives x2": {"augment": 1, "lexicon": False, "negatives": 2},
    "augment + lexicon + identity x0.3": {"augment": 1, "lexicon": False, "identity_weight": 0.3},
    "augment x3 + lexicon + negatives x2": {"augment": 3, "lexicon": False, "negatives": 2},
    "augment x2 + lexicon + negatives x3": {"augment": 2, "lexicon": False, "negatives": 3},
    "augment x2 + lexicon + negatives x2 + no second-person": {
        "augment": 2, "lexicon": False, "negatives": 2, "second_person_weight": 0.0},
    "all": {"augment": 2, "lexicon": False, "identity_weight": 0.3, "second_person_weight": 0.0, "negatives": 2},
}
# second session (hashing featurizer): on top of the first session's default (augment + lexicon)
DEFAULT_1 = {"augment": 1, "lexicon": False, "extended": False}
VARIANTS.update({  # grouped by featurized training set (one fitted matrix is cached at a time)
    "default before (hashing 2^20, augment, lexicon)": DEFAULT_1,
    "+ prior 0.1": {**DEFAULT_1, "prevalence": 0.1},
    "+ prior 0.05": {**DEFAULT_1, "prevalence": 0.05},
    "+ extended augmentation": {**DEFAULT_1, "extended": True},
    "+ prior 0.1 + extended (the new default)": {**DEFAULT_1, "extended": True, "prevalence": 0.1},
    "+ 2^22 buckets": {**DEFAULT_1, "hash_bits": 22},
    "+ prior 0.1 + 2^22": {**DEFAULT_1, "hash_bits": 22, "prevalence": 0.1},
    "+ extended + 2^22": {**DEFAULT_1, "extended": True, "hash_bits": 22},
    "+ prior 0.1 + extended + 2^22": {**DEFAULT_1, "extended": True, "hash_bits": 22, "prevalence": 0.1},
})
SECOND_SESSION = [v for v in VARIANTS if v.startswith(("default before", "+ "))]


def variant_settings(settings: Settings, spec: dict[str, Any]) -> Settings:
    """The settings with the features step's mitigation keys set for ``spec`` (baseline: all off)."""
    features = {
        "identity_augmentation": spec.get("augment", 0),
        "identity_terms_in_lexicon": spec.get("lexicon", True),
        "negative_repeats": spec.get("negatives", 1),
        "hash_bits": spec.get("hash_bits", 20),
    }
    train = {"prevalence": spec.get("prevalence")}
    return Settings.model_validate(deep_merge(settings.model_dump(), {"features": features, "train": train}))


def mitigated(clean: Any, features: Any, extended: bool) -> Any:
    """The features step's ``mitigate_train_split``, with or without the ``*_extra`` augmentation templates."""
    basic = (lambda: augmentation_sentences(extended=False)) if not extended else augmentation_sentences
    with mock.patch.object(mitigation, "augmentation_sentences", basic):
        return mitigate_train_split(clean, features)


def run_variant(data: Prepared, settings: Settings, spec: dict[str, Any], cache: dict[Any, Any]) -> dict[str, Any]:
    """Train as the pipeline would with ``spec``'s settings: the features step's own
    ``mitigate_train_split`` on the train split, then FeatureBuilder and train_model."""
    t0 = time.perf_counter()
    settings = variant_settings(settings, spec)
    key = (spec.get("augment", 0), spec.get("negatives", 1), spec.get("lexicon", True), spec.get("extended", False),
           spec.get("hash_bits", 20))
    if key not in cache:
        train = prepare_from_clean(data.name, mitigated(data.clean, settings.features, spec.get("extended", False)))
        builder = featurizer_from_settings(settings)  # features.vectorizer, as the features step does
        cache.clear()  # one fitted matrix at a time keeps memory bounded
        cache[key] = (builder, builder.fit_transform(train.train_texts), train.y_train)
    builder, X, y = cache[key]
    weighted = spec.get("identity_weight", 1.0) != 1.0 or spec.get("second_person_weight", 1.0) != 1.0
    weights = column_weights(
        builder.get_feature_names_out(), spec.get("identity_weight", 1.0), spec.get("second_person_weight", 1.0)
    ) if weighted else None
    model, _ = train_model(apply_column_weights(X, weights), y, data.labels, settings)
    _, primary = resolve_labels(data.labels, settings.train.primary_label)
    j = model.labels.index(primary)

    def score(texts: list[str]) -> np.ndarray:
        return model.predict_proba(apply_column_weights(builder.transform(texts), weights))[:, j]

    p_test = score(data.test_texts)
    y_test = data.y_test[:, data.labels.index(primary)]
    flagged = p_test >= model.threshold
    report = bias_report(score, model.threshold)
    bias = report["summary"]
    if spec.get("plot"):
        plot_bias(report, spec["plot"])
    return {
        "primary": primary,
        "test_auc": auc(y_test, p_test),
        "test_f1": float(2 * (flagged & (y_test == 1)).sum() / max(flagged.sum() + y_test.sum(), 1)),
        "threshold": float(model.threshold),
        "identity_fpr": bias["identity_fpr"],
        "kind_flagged": bias["kind_flagged"],
        "kind_total": bias["kind_total"],
        "kind_flagged_examples": bias["kind_flagged_examples"],
        "worst_bpsn_auc": bias["worst_bpsn_auc"],
        "worst_bpsn_term": bias["worst_bpsn_term"],
        "final_bias_score": bias["final_bias_score"],
        "identity_toxic_recall": bias["identity_toxic_recall"],
        "implicit_hate_recall": bias["implicit_hate_recall"],
        "issue_examples": dict(zip(ISSUE_EXAMPLES, map(float, score(ISSUE_EXAMPLES)), strict=True)),
        "worst_terms": [{k: t[k] for k in ("term", "subgroup_auc", "bpsn_auc", "bnsp_auc", "fpr")} for t in report["terms"][:5]],
        "train_rows": int(X.shape[0]),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    datasets = list(results)
    head = ["variant", *(f"{d} AUC" for d in datasets)]
    head += ["probe FPR", "kind flagged", "worst BPSN (term)", "bias score", "implicit hate flagged"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for variant in next(iter(results.values())):
        jig = results.get("jigsaw-sample", next(iter(results.values())))[variant]
        cells = [variant, *(fmt(results[d][variant]["test_auc"], 4) for d in datasets)]
        cells += [
            fmt(jig["identity_fpr"]),
            f"{jig['kind_flagged']}/{jig['kind_total']}",
            f"{fmt(jig['worst_bpsn_auc'])} ({jig['worst_bpsn_term']})",
            fmt(jig["final_bias_score"]),
            fmt(jig["implicit_hate_recall"], 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("dev", "prod"), default="dev")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--variants", nargs="*", default=SECOND_SESSION, help="default: the second session's")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--plot-dir", type=Path, default=None, help="bias plot per variant (first dataset)")
    args = parser.parse_args()
    settings = load_settings(args.mode)
    started = datetime.now(UTC)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.datasets:
        path = DATASETS[name]
        if not path.exists():
            print(f"{name}: {path} missing, skipped", flush=True)
            continue
        data = prepare(name, path, settings)
        print(f"{name}: {len(data.train_texts)} train / {len(data.test_texts)} test rows", flush=True)
        cache: dict[Any, Any] = {}
        results[name] = {}
        for variant in args.variants:
            spec = dict(VARIANTS[variant])
            if args.plot_dir and name == args.datasets[0]:
                args.plot_dir.mkdir(parents=True, exist_ok=True)
                spec["plot"] = args.plot_dir / f"bias_{variant.replace(' ', '_').replace('+', 'and')}.png"
            r = run_variant(data, settings, spec, cache)
            results[name][variant] = r
            print(
                f"  {variant:48s} AUC {fmt(r['test_auc'], 4)} F1 {fmt(r['test_f1'])} thr {fmt(r['threshold'])} | "
                f"probe FPR {fmt(r['identity_fpr'])} kind {r['kind_flagged']}/{r['kind_total']} "
                f"BPSN {fmt(r['worst_bpsn_auc'])} ({r['worst_bpsn_term']}) bias {fmt(r['final_bias_score'])} "
                f"implicit {fmt(r['implicit_hate_recall'], 2)} | {r['seconds']} s\n"
                f"    issue examples: {', '.join(f'{k!r} {v:.2f}' for k, v in r['issue_examples'].items())}",
                flush=True,
            )
    print()
    print(table(results))
    record = {
        "started": started.isoformat(timespec="seconds"),
        "mode": args.mode,
        "load_average": os.getloadavg(),
        "results": results,
    }
    print(f"\nstarted {record['started']}, mode {args.mode}, load average {record['load_average']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
