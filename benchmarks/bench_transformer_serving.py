"""Serving cost of the transformer alone, independent of training: all-MiniLM-L6-v2 + a fresh linear head
exported as ``model.type: transformer`` exports it (fp32 and dynamic int8), then CPU ms per text and peak
RSS scoring Davidson tweets in a fresh process per measurement (variants alternated). The weights'
values do not change the cost, so this measures what a trained model costs to serve.

    nice -n 10 uv run python benchmarks/bench_transformer_serving.py \
        --data ../shared/data/davidson2017/labeled_data.csv --texts 500 --repeats 3

Variants: each precision with the served batching (token-length batches of ``model.onnx_batch_size``),
and int8 as served before 2026-12-07 22:00 UTC (character-length order, batches of 32, each tokenized
and padded on its own) and with token-length batches of 32 and 8.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _shared import medians

from socialscore.config import SERVE_BATCH_SIZE

SERVE = r"""
import json, os, sys
import numpy as np
sys.path.insert(0, {bench!r})
from _shared import cpu_ms_per_text, vm_mb
import pandas as pd
from socialscore.modeling.scorer.pipeline import TextRules
from socialscore.modeling.transformer.runtime import OnnxScorer, encode
from socialscore.modeling.transformer.weights import base_model_dir

class CharacterOrder(OnnxScorer):  # the batching served before: character-length order, padded per batch
    def _score(self, texts):
        out = np.empty((len(texts), self.n_outputs))
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            chosen = order[start:start + self.batch_size]
            ids, mask = encode(self.tokenizer, [texts[i] for i in chosen])
            out[chosen] = self.session.run(None, {{"input_ids": ids, "attention_mask": mask}})[0]
        return out

texts = TextRules().apply(pd.read_csv({data!r})["tweet"].astype(str).tolist()[:{n}])
kind = CharacterOrder if {order!r} == "characters" else OnnxScorer
scorer = kind(open({onnx!r}, "rb").read(), (base_model_dir() / "tokenizer.json").read_text(), 64, batch_size={batch})
scorer.raw_scores(texts[:8])
print(json.dumps({{**cpu_ms_per_text(scorer.raw_scores, texts), "rss_mb": vm_mb(os.getpid())}}))
"""

VARIANTS = {  # name: (precision, order, texts per ONNX Runtime run)
    "fp32, served": ("fp32", "tokens", SERVE_BATCH_SIZE),
    "int8, served": ("int8", "tokens", SERVE_BATCH_SIZE),
    "int8, before (character order, 32)": ("int8", "characters", 32),
    "int8, token order, 32": ("int8", "tokens", 32),
    "int8, token order, 8": ("int8", "tokens", 8),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    from socialscore.modeling.transformer.finetune import build_classifier, export_onnx, quantize_int8

    with tempfile.TemporaryDirectory() as tmp:
        module, _ = build_classifier(3)
        module.eval()
        paths = {"fp32": export_onnx(module, Path(tmp))}
        paths["int8"] = quantize_int8(paths["fp32"])
        for name, path in paths.items():
            print(f"{name}: ONNX {path.stat().st_size / 2**20:.1f} MiB")
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in args.variants}
        for _ in range(args.repeats):
            for name in args.variants:  # alternated
                precision, order, batch = VARIANTS[name]
                code = SERVE.format(bench=str(Path(__file__).parent), data=str(args.data.resolve()),
                                    onnx=str(paths[precision]), n=args.texts, order=order, batch=batch)
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"| variant | CPU ms/text, one per call | CPU ms/text, batches of 256 | peak RSS MB |  ({args.texts} tweets, "
          f"median of {args.repeats}; load average {os.getloadavg()[0]:.1f})")
    print("|---|---|---|---|")
    for name, results in runs.items():
        m = medians(results)
        print(f"| {name} | {m['single_ms']:.2f} | {m['batch_ms']:.2f} | {m['rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
