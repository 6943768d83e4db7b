"""CPU µs per comment, stage by stage, ours beside alt-profanity-check, in one run (A and B alternated).

    uv sync --group bench
    uv run python benchmarks/bench_scoring_cost.py --models-dir <project>/models [--rounds 3]

Scores the 10k Jigsaw sample (``cleaned_training_sample.csv`` under ../shared or
$SOCIALSCORE_SHARED_DIR) through the API's own entry point (``ModelHolder.load()`` →
``score_loaded()``) in batches of 1,000, and alt-profanity-check's ``predict_prob`` on the same
batches, round after round alternated; then one text per call for both. Then, on the same batches,
each stage of ours alone: text rules, language detection, featurizing, model. CPU seconds
(process time: user + sys of this process), medians over the rounds.

The compiled featurizers keep each distinct token's n-gram columns across calls (a token cache), so
rounds after the first see the same texts' tokens cached: the first round and "featurizing, fresh
token cache" (a copy of the featurizer without its cache, on all the batches once) show the cold cost.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
from _shared import shared_dir  # noqa: E402

SHARED = shared_dir()
SAMPLE = SHARED / "data" / "jigsaw" / "cleaned_training_sample.csv"
BATCH = 1000


def cpu_us_per_text(function: Callable[[list[str]], object], batches: list[list[str]]) -> float:
    n = sum(len(b) for b in batches)
    started = time.process_time()
    for batch in batches:
        function(batch)
    return 1e6 * (time.process_time() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, required=True, help="a project's models/ with a production alias")
    parser.add_argument("--alias", default="production")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single", type=int, default=2000, help="texts scored one per call")
    args = parser.parse_args()

    from profanity_check import predict_prob

    from socialscore.api.deps import ModelHolder, score_loaded
    from socialscore.modeling.behaviour.language import detect_languages

    texts = pd.read_csv(SAMPLE, keep_default_na=False)["anonymized_comment"].astype(str).tolist()
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    holder = ModelHolder(args.models_dir, args.alias)
    holder.load()
    loaded = holder.require()
    pipeline = loaded.pipeline
    predict_prob(texts[:10])  # both warm

    ours: list[float] = []
    peer: list[float] = []
    for _ in range(args.rounds):
        ours.append(cpu_us_per_text(lambda b: score_loaded(loaded, b), batches))
        peer.append(cpu_us_per_text(predict_prob, batches))
    single = [[t] for t in texts[: args.single]]
    ours_single = cpu_us_per_text(lambda b: score_loaded(loaded, b), single)
    peer_single = cpu_us_per_text(predict_prob, single)

    cleaned = [pipeline.clean(b) for b in batches]
    features = [pipeline.featurizer.transform(c) for c in cleaned]
    stages = {
        "text rules (normalise + PII)": lambda: cpu_us_per_text(pipeline.clean, batches),
        "language detection": lambda: cpu_us_per_text(detect_languages, cleaned),
        "featurizing": lambda: cpu_us_per_text(pipeline.featurizer.transform, cleaned),
        "model": lambda: 1e6 * _cpu(lambda: [pipeline.proba_from_features(f) for f in features]) / len(texts),
    }
    stage_us = {name: statistics.median(run() for _ in range(args.rounds)) for name, run in stages.items()}
    fresh = copy.copy(pipeline.featurizer)
    fresh.__dict__.pop("_token_cache", None)
    cold = cpu_us_per_text(fresh.transform, cleaned)

    o, p = statistics.median(ours), statistics.median(peer)
    print(f"{len(texts)} comments of {SAMPLE.name}, batches of {BATCH}, {args.rounds} rounds alternated; "
          f"model {pipeline.version} ({type(pipeline.featurizer).__name__}); CPU µs per comment (median of rounds)")
    print(f"{'':34}{'ours':>10}{'alt-profanity-check':>22}{'ratio':>8}")
    print(f"{'batch of 1,000 (score_loaded)':34}{o:>10.1f}{p:>22.1f}{o / p:>8.2f}")
    print(f"{'one text per call':34}{ours_single:>10.1f}{peer_single:>22.1f}{ours_single / peer_single:>8.2f}")
    print("ours by stage (batches of 1,000):")
    for name, value in stage_us.items():
        print(f"  {name:32}{value:>10.1f}  ({100 * value / sum(stage_us.values()):.0f}%)")
    print(f"  featurizing, fresh token cache  {cold:>10.1f}")
    print(f"  rounds, ours: {[round(x, 1) for x in ours]}, peer: {[round(x, 1) for x in peer]}")
    print(f"load average {os.getloadavg()}")


def _cpu(function: Callable[[], object]) -> float:
    started = time.process_time()
    function()
    return time.process_time() - started


if __name__ == "__main__":
    sys.exit(main())
