"""model.type transformer and cascade on Davidson: quality on the held-out split, serving CPU and RSS,
and the CPU of the prod run that trained them.

    nice -n 10 uv run python benchmarks/bench_transformer.py --project-dir /tmp/tfprod \
        --data ../shared/data/davidson2017/labeled_data.csv --sample 13000 --budget 900

1. (unless ``--skip-run``) ``socialscore run --mode prod --set model.type=cascade`` on ``--data``, its
   CPU seconds (user+sys of the child processes) measured. A cascade run trains both models: the
   transformer is the cascade's own, so the two are compared on the same held-out split.
2. Quality on the run's test split, primary label: macro-F1 (both classes, at each model's served
   threshold) and ROC AUC for the linear part, the transformer alone and the cascade; the share routed;
   the cascade's quality had other shares been routed (``share_sweep``); and where each threshold sits
   (``threshold_placement``: served, the held-out split's own best with and without the
   ``train.prevalence`` weights, and the transformer's validation rows without them).
3. Serving the transformer, the cascade (its band, and a band routing 10% of the texts) and its linear
   part alone, each in a fresh process warmed up as the API warms up, alternated: CPU ms per text
   (process CPU time / texts) scoring one text per call (as the API) and in batches of 256 (as batch
   predict), and the peak RSS.
4. One API worker (``socialscore serve``) serving the cascade and the transformer alone: peak RSS
   after its warm-up and after scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _shared import medians, vm_mb

from socialscore.config import DEPLOYMENT_PREVALENCE


def run_pipeline(args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, "-m", "socialscore", "run", "--mode", "prod", "--data", str(args.data),
               "--project-dir", str(args.project_dir), "--set", "model.type=cascade",
               "--set", f"transform.sample_size={args.sample}", "--set", f"train.primary_label={args.primary}",
               "--set", f"train.time_budget_s={args.budget}", "--set", f"model.cascade_share={args.share}"]
    if args.override_gate:
        command += ["--override-gate", args.override_gate]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (args.project_dir / "bench_run.log").write_text(done.stdout + done.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"prod run: exit {done.returncode}, {cpu:.0f} CPU-s ({cpu / 60:.1f} CPU-min), "
          f"{time.perf_counter() - t0:.0f} s wall")
    return {"exit": done.returncode, "cpu_s": cpu, "wall_s": time.perf_counter() - t0}


def load(project: Path):
    from socialscore.modeling.scorer.pipeline import ScoringPipeline
    from socialscore.registry.store import version_dir

    record = json.loads((project / "models/model_metadata_prod.json").read_text())
    return ScoringPipeline.load(version_dir(project / "models", record["model_version"]), record["files"])


def split_rows(project: Path, labels: list[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    """The row ids of one split of the run and their 0/1 labels (in the model's label order)."""
    import pandas as pd

    from socialscore.modeling.training.estimators import label_matrix

    meta = json.loads((project / "data/processed/features_metadata_prod.json").read_text())
    rows = pd.read_parquet(project / "data/processed/rows_prod.parquet")
    chosen = (rows["split"] == split).to_numpy()
    y = np.load(project / "data/processed/labels_prod.npy")[chosen]
    return rows["id"].astype(str).to_numpy()[chosen], label_matrix(y, meta["labels"], labels)


def held_out(project: Path, labels: list[str]) -> tuple[list[str], np.ndarray]:
    """The test split's stored texts and 0/1 labels (in the model's label order)."""
    ids, Y = split_rows(project, labels, "test")
    return stored_texts(project, list(ids), "test"), Y


def stored_texts(project: Path, ids: Sequence[str], split: str) -> list[str]:
    """The stored (cleaned) texts of ``ids`` from the run's comments table."""
    from sqlalchemy.engine import make_url

    from socialscore.storage.db.database import Database

    db = Database(make_url(f"sqlite:///{project / 'data/socialscore.db'}"))
    comments = db.read_table("comments_prod", columns=["id", "text"], where_split=split)
    by_id = dict(zip(comments["id"].astype(str), comments["text"].fillna("").astype(str), strict=False))
    return [by_id[i] for i in ids]


def validation_rows(project: Path, pipeline) -> tuple[list[str], np.ndarray]:
    """The transformer's validation split, rebuilt as the train step drew it (texts, 0/1 labels)."""
    from socialscore.modeling.transformer.training import real_rows, validation_split

    ids, Y = split_rows(project, pipeline.labels, "train")
    params = pipeline.model.transformer.params
    val = validation_split(Y, pipeline.labels.index(pipeline.primary_label), params["validation_share"],
                           params["random_state"], real_rows(ids))
    return stored_texts(project, list(ids[val]), "train"), Y[val]


def threshold_placement(scores: dict[str, np.ndarray], y: np.ndarray, validation: dict[str, np.ndarray],
                        y_val: np.ndarray, cuts: dict[str, float], prevalence: float | None) -> list[dict[str, Any]]:
    """Where each model's primary-label threshold sits: held-out macro-F1 (at the split's own rate) and
    F1 weighted for the declared ``prevalence`` at the served threshold, at thresholds chosen on the
    validation rows without the prevalence weights, and at the held-out split's own best ones."""
    from sklearn.metrics import f1_score

    from socialscore.modeling.training.prior import prior_weights
    from socialscore.modeling.training.validation import choose_threshold

    weight = prior_weights(y, prevalence)
    rows = []
    for name, p in scores.items():
        candidates = {"served": cuts[name], "held-out best, weighted": choose_threshold(y, p, "f1", weight),
                      "held-out best, unweighted": choose_threshold(y, p, "f1")}
        if name in validation:
            candidates["validation, unweighted"] = choose_threshold(y_val, validation[name], "f1")
        for how, cut in candidates.items():
            rows.append({"model": name, "threshold": how, "cut": cut,
                         "macro_f1": f1_score(y, p >= cut, average="macro"),
                         "weighted_f1": f1_score(y, p >= cut, sample_weight=weight)})
    return rows


def quality(pipeline, texts: list[str], Y: np.ndarray, project: Path, prevalence: float | None) -> dict[str, Any]:
    from sklearn.metrics import f1_score, roc_auc_score

    cascade = pipeline.model
    j = pipeline.labels.index(pipeline.primary_label)
    features = pipeline.featurizer.transform(texts)
    linear = cascade.linear.predict_proba(features)[:, j]
    transformer = cascade.transformer.predict_proba_texts(texts)[:, j]
    combined = cascade.predict_proba_texts(texts, features)[:, j]
    cuts = {"linear": cascade.info["linear_thresholds"][pipeline.primary_label],
            "transformer": cascade.info["transformer_thresholds"][pipeline.primary_label],
            "cascade": pipeline.threshold}
    y = Y[:, j]
    out = {}
    for name, p in (("linear", linear), ("transformer", transformer), ("cascade", combined)):
        out[name] = {"macro_f1": f1_score(y, p >= cuts[name], average="macro"), "roc_auc": roc_auc_score(y, p)}
    out["cascade"]["routed_share"] = float(cascade.routed(cascade.linear.predict_proba(features)).mean())
    out["sweep"] = share_sweep(linear, transformer, y, cascade.linear_threshold, cuts["cascade"])
    val_texts, Y_val = validation_rows(project, pipeline)
    validation = {"transformer": cascade.transformer.predict_proba_texts(val_texts)[:, j]}
    scores = {"linear": linear, "transformer": transformer, "cascade": combined}
    out["placement"] = threshold_placement(scores, y, validation, Y_val[:, j], cuts, prevalence)
    out["validation_rows"] = len(val_texts)
    return out


def share_sweep(linear: np.ndarray, transformer: np.ndarray, y: np.ndarray, centre: float, cut: float,
                shares: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)) -> list[dict[str, float]]:
    """The cascade's primary-label quality if ``share`` of these texts were routed: the band is the
    quantile of the texts' own distances to the linear threshold (no labels used), the threshold the
    served cascade's. What a smaller ``model.cascade_share`` would trade; the served model is not changed."""
    from sklearn.metrics import f1_score, roc_auc_score

    from socialscore.modeling.transformer.model import _logit, choose_band

    distance = np.abs(_logit(linear) - _logit(centre))
    rows = []
    for share in shares:
        routed = distance <= choose_band(linear, centre, share)
        p = np.where(routed, transformer, linear)
        rows.append({"share": float(routed.mean()), "macro_f1": f1_score(y, p >= cut, average="macro"),
                     "roc_auc": roc_auc_score(y, p)})
    return rows


SERVE = r"""
import json, os, sys
sys.path.insert(0, {bench!r})
from _shared import cpu_ms_per_text, vm_mb
from bench_transformer import load, held_out, part_alone
from socialscore.api.numba_cache import WARM_TEXTS
pipeline = load(__import__("pathlib").Path({project!r}))
if {kind!r} in ("transformer", "linear"):
    pipeline = part_alone(pipeline, pipeline.model.transformer if {kind!r} == "transformer" else pipeline.model.linear)
texts, _ = held_out(__import__("pathlib").Path({project!r}), pipeline.labels)
texts = texts[:{n}]
routed = None
if {kind!r}.startswith("cascade"):
    from socialscore.modeling.transformer.model import choose_band
    cascade = pipeline.model
    linear = cascade.linear.predict_proba(pipeline.features(texts))
    if {kind!r} != "cascade":  # "cascade at 10%": the band that routes that share of these texts (no labels)
        share = float({kind!r}.split()[-1].rstrip("%")) / 100
        j = pipeline.labels.index(pipeline.primary_label)
        cascade.band = choose_band(linear[:, j], cascade.linear_threshold, share)
    routed = float(cascade.routed(linear).mean())
# warm up as the API does (socialscore.api.startup.warm_up): PII checkers, kernels, language identifier,
# then the ONNX session and tokenizer; else the first text per lazy builder is billed to the measurement
pipeline.score(list(WARM_TEXTS))
pipeline.score(list(WARM_TEXTS[:1]))
pipeline.score(texts[:8])
cost = cpu_ms_per_text(pipeline.score, texts)
print(json.dumps({{**cost, "rss_mb": vm_mb(os.getpid()), "routed": routed}}))
"""


def serving(project: Path, n: int, repeats: int) -> dict[str, dict[str, float]]:
    results: dict[str, list[dict[str, Any]]] = {"transformer": [], "cascade": [], "cascade at 10%": [], "linear": []}
    for _ in range(repeats):
        for kind in results:  # alternated; "linear": the cascade's linear part alone
            code = SERVE.format(bench=str(Path(__file__).parent), project=str(project), kind=kind, n=n)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            results[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {kind: medians(runs) for kind, runs in results.items()}


def served_bundle(pipeline, target: Path) -> Path:
    """``pipeline`` exported as a served bundle (what the API loads)."""
    from socialscore.registry.serving import export_pipeline

    export_pipeline(pipeline, target, {"model_version": pipeline.version, "alias": "production"}, compat=False)
    return target


def part_alone(pipeline, part):
    """One part of the cascade served alone (same rules, featurizer, thresholds, language profile)."""
    from socialscore.modeling.scorer.pipeline import ScoringPipeline

    return ScoringPipeline(pipeline.rules, pipeline.featurizer, part, pipeline.thresholds,
                           pipeline.high_risk, pipeline.card, pipeline.languages)


def api_rss(models_dir: Path, texts: list[str], scratch: Path) -> dict[str, float]:
    """Peak RSS (VmHWM) and RSS (VmRSS) of one API worker serving ``models_dir`` as the image runs it (a shipped numba
    cache): after its start-up warm-up, and after scoring ``texts`` one per request, then in batches of 256."""
    import httpx
    from bench_api import free_port

    shipped = scratch / "shipped-numba-cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALSCORE_", "NUMBA_"))}
    if not shipped.exists():
        subprocess.run([sys.executable, "-m", "socialscore", "warm-cache", str(shipped)], check=True,
                       env=env | {"NUMBA_CACHE_DIR": str(shipped)}, stdout=subprocess.DEVNULL)
    port, run = free_port(), Path(tempfile.mkdtemp(dir=scratch))
    env |= {"SOCIALSCORE_API_KEYS": "bench-key", "SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(shipped),
            "NUMBA_CACHE_DIR": str(run / "numba")}
    with (run / "api.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "socialscore", "serve", "--port", str(port), "--workers", "1",
                                    "--models-dir", str(models_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": "bench-key"}, timeout=300) as client:
            deadline = time.monotonic() + 900  # a loaded machine: start-up can take minutes of wall time
            while True:
                try:
                    if client.get("/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the API did not start; see {run / 'api.log'}")
                time.sleep(0.5)
            ready = {"ready_mb": vm_mb(process.pid), "ready_rss_mb": vm_mb(process.pid, "VmRSS")}
            for text in texts:
                client.post("/v1/score", json={"text": text}).raise_for_status()
            for start in range(0, len(texts), 256):
                client.post("/v1/score/batch", json={"texts": texts[start:start + 256]}).raise_for_status()
            return {**ready, "scored_mb": vm_mb(process.pid), "scored_rss_mb": vm_mb(process.pid, "VmRSS")}
    finally:
        process.kill()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--sample", type=int, default=13000)
    parser.add_argument("--budget", type=float, default=1800)
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--primary", default="offensive")
    parser.add_argument("--prevalence", type=float, default=DEPLOYMENT_PREVALENCE,
                        help="the run's train.prevalence (prod's default)")
    parser.add_argument("--override-gate", default=None)
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--texts", type=int, default=500, help="texts scored per serving measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    args.project_dir = args.project_dir.resolve()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_run:
        args.project_dir.mkdir(parents=True, exist_ok=True)
        run_pipeline(args)
    pipeline = load(args.project_dir)
    info = pipeline.model.transformer.info
    print(f"transformer: {info['precision']['chosen']}, fine-tuned {info['training']['examples']} examples "
          f"({info['training']['stopped']}, {info['training']['fine_tune_cpu_seconds']} CPU-s); "
          f"int8 F1 loss on validation {info['precision']['int8_f1_loss']}; ONNX bytes fp32 "
          f"{info['precision']['fp32']['bytes'] / 2**20:.1f} MiB, int8 {info['precision'].get('int8', {}).get('bytes', 0) / 2**20:.1f} MiB")
    texts, Y = held_out(args.project_dir, pipeline.labels)
    print(f"held-out: {len(texts)} texts, primary label {pipeline.primary_label}")
    scores = quality(pipeline, texts, Y, args.project_dir, args.prevalence)
    print("| model | macro-F1 | ROC AUC |")
    print("|---|---|---|")
    sweep, placement, n_val = scores.pop("sweep"), scores.pop("placement"), scores.pop("validation_rows")
    for name, m in scores.items():
        print(f"| {name} | {m['macro_f1']:.3f} | {m['roc_auc']:.3f} |")
    print(f"routed to the transformer: {scores['cascade']['routed_share']:.1%} of held-out texts")
    print("cascade if a share of the held-out texts were routed (band from their own scores, no labels):")
    print("| routed | macro-F1 | ROC AUC |")
    print("|---|---|---|")
    for row in sweep:
        print(f"| {row['share']:.1%} | {row['macro_f1']:.3f} | {row['roc_auc']:.3f} |")
    print(f"primary-label thresholds: held-out macro-F1 (its own rate) and F1 weighted for prevalence "
          f"{args.prevalence} (validation: the transformer's {n_val} rows)")
    print("| model | threshold chosen | cut | macro-F1 | weighted F1 |")
    print("|---|---|---|---|---|")
    for row in placement:
        print(f"| {row['model']} | {row['threshold']} | {row['cut']:.3f} | {row['macro_f1']:.3f} | {row['weighted_f1']:.3f} |")
    costs = serving(args.project_dir, args.texts, args.repeats)
    print(f"| serving ({args.texts} held-out texts, median of {args.repeats}) | routed | CPU ms/text, one per call "
          f"| CPU ms/text, batches of 256 | peak RSS MB |")
    print("|---|---|---|---|---|")
    for kind, c in costs.items():
        routed = "" if c["routed"] is None else f"{c['routed']:.1%}"
        print(f"| {kind} | {routed} | {c['single_ms']:.2f} | {c['batch_ms']:.2f} | {c['rss_mb']:.0f} |")
    for kind in ("cascade", "cascade at 10%"):
        print(f"{kind}: CPU per text / transformer's: {costs[kind]['batch_ms'] / costs['transformer']['batch_ms']:.0%} "
              f"(batches), {costs[kind]['single_ms'] / costs['transformer']['single_ms']:.0%} (one per call)")
    # the cascade costs about its linear part plus the routed share of the transformer (an upper bound:
    # the per-text rules and language detection are counted in both terms)
    for mode in ("batch_ms", "single_ms"):
        linear, full = costs["linear"][mode], costs["transformer"][mode]
        estimate = ", ".join(f"{row['share']:.0%} → {(linear + row['share'] * full) / full:.0%}" for row in sweep)
        print(f"cascade / transformer CPU, estimated as linear part + routed share × transformer "
              f"({mode}): {estimate}")
    bundles = {"cascade": served_bundle(pipeline, args.project_dir / "bench_bundle_cascade"),
               "transformer": served_bundle(part_alone(pipeline, pipeline.model.transformer), args.project_dir / "bench_bundle_transformer")}
    print(f"| API worker (socialscore serve, 1 worker) | peak RSS MB after warm-up | after {args.texts} texts "
          f"one per request + batches of 256 |")
    print("|---|---|---|")
    for kind, models in bundles.items():
        rss = api_rss(models, [t for t in texts[:args.texts] if t.strip()], args.project_dir)
        print(f"| {kind} | {rss['ready_mb']:.0f} | {rss['scored_mb']:.0f} |")
    size = sum(p.stat().st_size for p in (args.project_dir / "models/registry").glob(f"{pipeline.version}/*"))
    print(f"registered model version: {size / 2**20:.1f} MiB on disk")


if __name__ == "__main__":
    main()
