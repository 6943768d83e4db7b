"""model.type transformer and cascade on Davidson: quality on the held-out split, serving CPU and RSS,
and the CPU of the prod run that trained them.

    nice -n 10 uv run python benchmarks/bench_transformer.py --project-dir /tmp/tfprod \
        --data ../shared/data/davidson2017/labeled_data.csv --sample 13000 --budget 900

1. (unless ``--skip-run``) ``socialscore run --mode prod --set model.type=cascade`` on ``--data``, its
   CPU seconds (user+sys of the child processes) measured. A cascade run trains both models: the
   transformer is the cascade's own, so the two are compared on the same held-out split.
2. Quality on the run's test split, primary label: macro-F1 (both classes, at each model's served
   threshold) and ROC AUC for the linear part, the transformer alone and the cascade; the share routed;
   and the cascade's quality had other shares been routed (``share_sweep``).
3. Serving the transformer, the cascade and its linear part alone, each in a fresh process warmed up as
   the API warms up, alternated: CPU ms per text (process CPU time / texts) scoring one text per call
   (as the API) and in batches of 256 (as batch predict), and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


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


def held_out(project: Path, labels: list[str]) -> tuple[list[str], np.ndarray]:
    """The test split's stored texts and 0/1 labels (in the model's label order)."""
    import pandas as pd

    from socialscore.storage.db.database import Database

    meta = json.loads((project / "data/processed/features_metadata_prod.json").read_text())
    rows = pd.read_parquet(project / "data/processed/rows_prod.parquet")
    y = np.load(project / "data/processed/labels_prod.npy")
    test = (rows["split"] == "test").to_numpy()
    from sqlalchemy.engine import make_url

    db = Database(make_url(f"sqlite:///{project / 'data/socialscore.db'}"))
    comments = db.read_table("comments_prod", columns=["id", "text"], where_split="test")
    by_id = dict(zip(comments["id"].astype(str), comments["text"].fillna("").astype(str), strict=False))
    texts = [by_id[i] for i in rows["id"].astype(str)[test]]
    order = [list(meta["labels"]).index(label) for label in labels]
    return texts, y[test][:, order]


def quality(pipeline, texts: list[str], Y: np.ndarray) -> dict[str, dict[str, float]]:
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
import json, sys, time
def peak_rss_mb():  # VmHWM: ru_maxrss would count the parent's RSS at fork
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
sys.path.insert(0, {bench!r})
from bench_transformer import load, held_out
from socialscore.modeling.scorer.pipeline import ScoringPipeline
from socialscore.api.numba_cache import WARM_TEXTS
pipeline = load(__import__("pathlib").Path({project!r}))
if {kind!r} in ("transformer", "linear"):
    part = pipeline.model.transformer if {kind!r} == "transformer" else pipeline.model.linear
    pipeline = ScoringPipeline(pipeline.rules, pipeline.featurizer, part, pipeline.thresholds,
                               pipeline.high_risk, pipeline.card, pipeline.languages)
texts, _ = held_out(__import__("pathlib").Path({project!r}), pipeline.labels)
texts = texts[:{n}]
# warm up as the API does (socialscore.api.startup.warm_up): PII checkers, kernels, language identifier,
# then the ONNX session and tokenizer; else the first text per lazy builder is billed to the measurement
pipeline.score(list(WARM_TEXTS))
pipeline.score(list(WARM_TEXTS[:1]))
pipeline.score(texts[:8])
t0 = time.process_time()
for text in texts:
    pipeline.score([text])
single = (time.process_time() - t0) / len(texts)
t0 = time.process_time()
for start in range(0, len(texts), 256):
    pipeline.score(texts[start:start + 256])
batch = (time.process_time() - t0) / len(texts)
rss = peak_rss_mb()
print(json.dumps({{"single_ms": single * 1000, "batch_ms": batch * 1000, "rss_mb": rss}}))
"""


def serving(project: Path, n: int, repeats: int) -> dict[str, dict[str, float]]:
    results: dict[str, list[dict[str, float]]] = {"transformer": [], "cascade": [], "linear": []}
    for _ in range(repeats):
        for kind in results:  # alternated; "linear": the cascade's linear part alone
            code = SERVE.format(bench=str(Path(__file__).parent), project=str(project), kind=kind, n=n)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            results[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {kind: {k: float(np.median([r[k] for r in runs])) for k in runs[0]} for kind, runs in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--sample", type=int, default=13000)
    parser.add_argument("--budget", type=float, default=1800)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--primary", default="offensive")
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
    scores = quality(pipeline, texts, Y)
    print("| model | macro-F1 | ROC AUC |")
    print("|---|---|---|")
    sweep = scores.pop("sweep")
    for name, m in scores.items():
        print(f"| {name} | {m['macro_f1']:.3f} | {m['roc_auc']:.3f} |")
    print(f"routed to the transformer: {scores['cascade']['routed_share']:.1%} of held-out texts")
    print("cascade if a share of the held-out texts were routed (band from their own scores, no labels):")
    print("| routed | macro-F1 | ROC AUC |")
    print("|---|---|---|")
    for row in sweep:
        print(f"| {row['share']:.1%} | {row['macro_f1']:.3f} | {row['roc_auc']:.3f} |")
    costs = serving(args.project_dir, args.texts, args.repeats)
    print("| serving | CPU ms/text, one per call | CPU ms/text, batches of 256 | peak RSS MB |")
    print("|---|---|---|---|")
    for kind, c in costs.items():
        print(f"| {kind} | {c['single_ms']:.2f} | {c['batch_ms']:.2f} | {c['rss_mb']:.0f} |")
    ratio = costs["cascade"]["batch_ms"] / costs["transformer"]["batch_ms"]
    print(f"cascade CPU per text / transformer's: {ratio:.0%} (batches), "
          f"{costs['cascade']['single_ms'] / costs['transformer']['single_ms']:.0%} (one per call)")
    # the cascade costs about its linear part plus the routed share of the transformer (an upper bound:
    # the per-text rules and language detection are counted in both terms)
    for mode in ("batch_ms", "single_ms"):
        linear, full = costs["linear"][mode], costs["transformer"][mode]
        estimate = ", ".join(f"{row['share']:.0%} → {(linear + row['share'] * full) / full:.0%}" for row in sweep)
        print(f"cascade / transformer CPU, estimated as linear part + routed share × transformer "
              f"({mode}): {estimate}")
    size = sum(p.stat().st_size for p in (args.project_dir / "models/registry").glob(f"{pipeline.version}/*"))
    print(f"registered model version: {size / 2**20:.1f} MiB on disk")


if __name__ == "__main__":
    main()
