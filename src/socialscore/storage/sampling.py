"""Stable hashing, stratified sampling and the training-sample builder (``socialscore sample``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from socialscore.ingest.labels import parse_labels
from socialscore.storage.csvformat import ERROR_COLUMN, UnlabelledError, detect_schema
from socialscore.storage.datasets import davidson_label, read_table


# --- sampling -----------------------------------------------------------------------------------
def stable_hash(keys: Sequence[str] | pd.Series, seed: int | str) -> np.ndarray:
    """A uint64 per key from blake2b(seed:key): stable across runs, platforms and library versions."""
    prefix = f"{seed}:".encode()
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(prefix + str(k).encode(), digest_size=8).digest(), "big")
            for k in keys
        ),
        dtype=np.uint64,
        count=len(keys),
    )


def stratified_take(keys: pd.Series, strata: pd.Series, n: int, seed: int) -> np.ndarray:
    """A boolean mask choosing ``n`` rows, each stratum in proportion, lowest hash first."""
    total = len(keys)
    if n >= total:
        return np.ones(total, dtype=bool)
    hashes = stable_hash(keys, seed)
    strata_values = strata.to_numpy()
    groups = pd.Series(strata_values).value_counts(sort=False)
    exact = groups / total * n
    quota = np.floor(exact).astype(int)
    short = n - int(quota.sum())
    for label in (exact - quota).sort_values(ascending=False).index[:short]:
        quota[label] += 1
    mask = np.zeros(total, dtype=bool)
    for label, k in quota.items():
        members = np.flatnonzero(strata_values == label)
        chosen = members[np.argsort(hashes[members], kind="stable")[:k]]
        mask[chosen] = True
    return mask


# --- preparing a training sample (scripts/prepare_training_data.sh) ----------------------------
def build_training_sample(source: Path, output: Path, n_rows: int = 10_000, seed: int = 42) -> int:
    """Keep id + text + labels of ``source``, drop blank texts and bad labels, sample stratified."""
    from socialscore.storage.atomic import atomic_path
    from socialscore.text.pii import scrub_many

    table = read_table(source)
    schema = detect_schema(table.columns, source.name)
    if not schema.labels:
        raise UnlabelledError(
            f"{source.name} has no label column; the columns are {', '.join(table.columns)}"
        )
    frame = table.frame[table.frame[ERROR_COLUMN].isna()]
    out = pd.DataFrame({"id": frame[schema.id_column] if schema.id_column else None})
    out["comment_text"] = frame[schema.text_column].fillna("").str.strip()
    ok = out["comment_text"] != ""
    for label, column in schema.labels.items():
        values = davidson_label(frame[column], label) if schema.davidson else frame[column]
        out[label], why = parse_labels(values, label)  # exact: soft labels such as 0.5 are dropped
        ok &= why.isna()
    labels = list(schema.labels)
    out = out[ok].copy()
    if out["id"].isna().all():
        out["id"] = [f"row{i}" for i in range(1, len(out) + 1)]
    out[labels] = out[labels].astype(int)
    out["comment_text"], _ = scrub_many(out["comment_text"].tolist())
    strata = (
        out[labels].astype(str).agg("".join, axis=1)
        if len(labels) <= 3
        else (out[labels].sum(axis=1) > 0)
    )
    keep = stratified_take(out["id"].astype(str), strata, n_rows, seed)
    out = out[keep].reset_index(drop=True)
    # A pipeline input, not a report: written verbatim (spreadsheet escaping would alter the text).
    with atomic_path(output, ".csv") as tmp:
        out.to_csv(tmp, index=False)
    return len(out)
