"""Feature row blocks for the out-of-core trainer: views of an in-memory CSR, or npz files on disk.

Both give ``(start_row, csr_block)`` pairs in row order and single blocks by number, so the trainer
never holds more than the block it works on (plus what the caller already holds).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

DEFAULT_BLOCK_ROWS = 20_000
MANIFEST = "blocks.json"


class CsrBlocks:
    """Consecutive row blocks of a CSR matrix, as views that share its arrays (no copy)."""

    def __init__(self, X: sp.csr_matrix, block_rows: int = DEFAULT_BLOCK_ROWS) -> None:
        self.X, self.block_rows = X, block_rows
        self.n_rows, self.n_features = X.shape
        self.starts = list(range(0, self.n_rows, block_rows))

    def block(self, number: int) -> sp.csr_matrix:
        start = self.starts[number]
        stop = min(start + self.block_rows, self.n_rows)
        indptr = self.X.indptr[start : stop + 1]
        a, b = indptr[0], indptr[-1]
        view = sp.csr_matrix(
            (self.X.data[a:b], self.X.indices[a:b], indptr - a), shape=(stop - start, self.n_features)
        )
        view.has_sorted_indices = self.X.has_sorted_indices
        return view

    def __iter__(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        for number, start in enumerate(self.starts):
            yield start, self.block(number)


class NpzBlocks:
    """Row blocks written one by one as ``block_00000.npz`` files plus a ``blocks.json`` manifest."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        self.n_rows, self.n_features = manifest["n_rows"], manifest["n_features"]
        self.starts = manifest["starts"]

    def block(self, number: int) -> sp.csr_matrix:
        return sp.load_npz(self.directory / f"block_{number:05d}.npz").tocsr()

    def __iter__(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        for number, start in enumerate(self.starts):
            yield start, self.block(number)


class NpzBlockWriter:
    """Append CSR blocks (same width) to a directory; :meth:`close` writes the manifest last."""

    def __init__(self, directory: Path, n_features: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.n_features, self.starts, self.n_rows = n_features, [], 0

    def append(self, block: sp.csr_matrix) -> None:
        if block.shape[1] != self.n_features:
            raise ValueError(f"block has {block.shape[1]} columns, expected {self.n_features}")
        sp.save_npz(self.directory / f"block_{len(self.starts):05d}.npz", sp.csr_matrix(block), compressed=False)
        self.starts.append(self.n_rows)
        self.n_rows += block.shape[0]

    def close(self) -> NpzBlocks:
        manifest = {"n_rows": self.n_rows, "n_features": self.n_features, "starts": self.starts}
        (self.directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        return NpzBlocks(self.directory)


def hash_folds(row_ids: np.ndarray | list[str], n_folds: int) -> np.ndarray:
    """Fold of each row from a hash of its id: stable, and computable block by block."""
    hashed = pd.util.hash_pandas_object(pd.Series(np.asarray(row_ids, dtype=str)), index=False).to_numpy()
    return (hashed % np.uint64(n_folds)).astype(np.int16)
