"""Precision and recall per PII type on the labelled set tests/data/pii/labelled.jsonl.

    uv run python benchmarks/pii_eval.py [--show-errors]

A labelled span is found (recall) when one predicted span of the same type covers all of it; a predicted
span is correct (precision) when it overlaps a labelled span of the same type. Any predicted span in a
look-alike is a false positive.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from socialscore.text.pii import find_pii
from socialscore.text.pii.span import KINDS

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii" / "labelled.jsonl"


def load(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(records: list[dict]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """({type: {labelled, predicted, recall, precision}}, error descriptions)."""
    found, gold, correct, predicted = Counter(), Counter(), Counter(), Counter()
    errors = []
    for record in records:
        text = record["text"]
        spans = find_pii(text)
        for start, end, kind in record["spans"]:
            gold[kind] += 1
            if any(s.kind == kind and s.start <= start and end <= s.end for s in spans):
                found[kind] += 1
            else:
                errors.append(f"missed {kind} {text[start:end]!r} in {text!r} -> {[(text[s.start:s.end], s.kind) for s in spans]}")
        for s in spans:
            predicted[s.kind] += 1
            if any(k == s.kind and s.start < e and b < s.end for b, e, k in record["spans"]):
                correct[s.kind] += 1
            else:
                errors.append(f"false {s.kind} {text[s.start:s.end]!r} in {text!r}")
    table = {}
    for kind in KINDS:
        table[kind] = {
            "labelled": gold[kind],
            "predicted": predicted[kind],
            "recall": found[kind] / gold[kind] if gold[kind] else float("nan"),
            "precision": correct[kind] / predicted[kind] if predicted[kind] else float("nan"),
        }
    all_gold, all_pred = sum(gold.values()), sum(predicted.values())
    table["all"] = {
        "labelled": all_gold,
        "predicted": all_pred,
        "recall": sum(found.values()) / all_gold,
        "precision": sum(correct.values()) / all_pred if all_pred else float("nan"),
    }
    return table, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    records = load()
    table, errors = evaluate(records)
    negatives = sum(not r["spans"] for r in records)
    print(f"{len(records)} comments ({len(records) - negatives} with PII, {negatives} look-alikes only)")
    print("| type | labelled | predicted | recall | precision |")
    print("|---|---:|---:|---:|---:|")
    for kind, row in table.items():
        print(f"| {kind} | {row['labelled']} | {row['predicted']} | {row['recall']:.1%} | {row['precision']:.1%} |")
    if args.show_errors:
        print("\n".join(errors))


if __name__ == "__main__":
    main()
