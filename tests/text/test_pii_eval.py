"""The labelled PII set (tests/data/pii/labelled.jsonl): recall >= 98% per type (addresses excepted),
precision >= 97%, with enough comments and look-alikes for the figures to mean something."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pii_eval():
    spec = importlib.util.spec_from_file_location("pii_eval", ROOT / "benchmarks" / "pii_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_labelled_set_is_large_and_varied() -> None:
    records = _pii_eval().load()
    with_pii = [r for r in records if r["spans"]]
    assert len(with_pii) >= 200
    assert sum(not r["spans"] for r in records) >= 200
    kinds = {kind for r in records for _, _, kind in r["spans"]}
    assert kinds == {"EMAIL", "PHONE", "URL", "USER", "IP", "CARD", "IBAN", "ID", "ADDRESS"}


def test_recall_and_precision_meet_the_targets() -> None:
    table, errors = _pii_eval().evaluate(_pii_eval().load())
    for kind, row in table.items():
        if kind != "ADDRESS":
            assert row["recall"] >= 0.98, (kind, row, errors[:10])
        if not math.isnan(row["precision"]):
            assert row["precision"] >= 0.97, (kind, row, errors[:10])


def test_the_evaluation_counts_misses_and_false_positives() -> None:
    module = _pii_eval()
    records = [
        {"text": "call 020 7946 0958 now", "spans": [[5, 18, "EMAIL"]]},  # wrong type: a miss
        {"text": "born 1987", "spans": [[5, 9, "PHONE"]]},  # not found: a miss
        {"text": "mail jane@company", "spans": []},  # found but unlabelled: a false positive
    ]
    table, errors = module.evaluate(records)
    assert table["EMAIL"]["recall"] == 0 and table["PHONE"]["recall"] == 0
    assert table["EMAIL"]["precision"] == 0
    assert len(errors) == 4
