"""Feature row blocks for the out-of-core trainer: views of an in-memory CSR, or npz files on disk.

Both give ``(start_row, csr_block)`` pairs in row order and single blocks by number, so the trainer
never holds more than the block it works on (plus what the caller already holds).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

DEFAULT_BLOCK_ROWS = 20_000
MANIFEST = "blocks.json"


class BlockSource:
    """Row blocks by number (``starts``, ``block``); iterated, ``(start_row, block)`` pairs in row order."""

    starts: list[int]

    def block(self, number: int) -> sp.csr_matrix:
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        for number, start in enumerate(self.starts):
            yield start, self.block(number)


class CsrBlocks(BlockSource):
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


class NpzBlocks(BlockSource):
    """Row blocks written one by one as ``block_00000.npz`` files plus a ``blocks.json`` manifest."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        self.n_rows, self.n_features = manifest["n_rows"], manifest["n_features"]
        self.starts = manifest["starts"]
        self.nnz = manifest.get("nnz")
        self.block_nnz = manifest.get("block_nnz")

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows, self.n_features

    def block(self, number: int) -> sp.csr_matrix:
        return sp.load_npz(self.directory / f"block_{number:05d}.npz").tocsr()


class RowRange(BlockSource):
    """Rows ``[start, stop)`` of a block source, as blocks (cut where the range cuts a block)."""

    def __init__(self, source: Any, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= source.n_rows:
            raise ValueError(f"rows [{start}, {stop}) are outside 0..{source.n_rows}")
        self.source, self.first, self.n_rows, self.n_features = source, start, stop - start, source.n_features
        ends = [*source.starts[1:], source.n_rows]
        self._parts = [(n, s, e) for n, (s, e) in enumerate(zip(source.starts, ends)) if s < stop and e > start]
        self.starts = [max(s, start) - start for _, s, _ in self._parts]
        whole = all(s >= start and e <= stop for _, s, e in self._parts)
        per_block = getattr(source, "block_nnz", None)
        self.nnz = sum(per_block[n] for n, _, _ in self._parts) if whole and per_block is not None else None

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows, self.n_features

    def block(self, number: int) -> sp.csr_matrix:
        n, s, e = self._parts[number]
        block = self.source.block(n)
        lo, hi = max(self.first, s) - s, min(self.first + self.n_rows, e) - s
        return block if (lo, hi) == (0, block.shape[0]) else block[lo:hi]



class CountedBlocks(BlockSource):
    """A block source that tells ``advance`` the rows of every block read; otherwise the source itself."""

    def __init__(self, blocks: Any, advance: Callable[[int], None]) -> None:
        self._blocks, self._advance = blocks, advance

    def __getattr__(self, name: str) -> Any:
        return getattr(self._blocks, name)

    def block(self, number: int) -> sp.csr_matrix:
        block = self._blocks.block(number)
        self._advance(block.shape[0])
        return block

def gather(blocks: Any) -> sp.csr_matrix:
    """All rows of a block source as one CSR; filled in place when the source knows its ``nnz``
    (no second copy of the matrix while stacking)."""
    nnz = getattr(blocks, "nnz", None)
    if nnz is None:
        parts = [block for _, block in blocks]
        out = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, blocks.n_features), dtype=np.float32)
        return sp.csr_matrix(out)
    wide = nnz >= 2**31
    data: np.ndarray | None = None
    indices = np.empty(nnz, dtype=np.int64 if wide else np.int32)
    indptr = np.zeros(blocks.n_rows + 1, dtype=np.int64 if wide else np.int32)
    at, sorted_indices = 0, True
    for start, block in blocks:
        if data is None:
            data = np.empty(nnz, dtype=block.dtype)
        data[at : at + block.nnz], indices[at : at + block.nnz] = block.data, block.indices
        indptr[start + 1 : start + block.shape[0] + 1] = block.indptr[1:].astype(indptr.dtype) + at
        at += block.nnz
        sorted_indices = sorted_indices and block.has_sorted_indices
    if data is None:
        data = np.empty(0, dtype=np.float32)
    if at != nnz:
        raise ValueError(f"the blocks hold {at} values, their manifest says {nnz}")
    out = sp.csr_matrix((data, indices, indptr), shape=(blocks.n_rows, blocks.n_features))
    out.has_sorted_indices = sorted_indices
    return out


class NpzBlockWriter:
    """Append CSR blocks (same width) to a directory; :meth:`close` writes the manifest last."""

    def __init__(self, directory: Path, n_features: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.n_features, self.starts, self.n_rows, self.block_nnz = n_features, [], 0, []

    def append(self, block: sp.csr_matrix) -> None:
        if block.shape[1] != self.n_features:
            raise ValueError(f"block has {block.shape[1]} columns, expected {self.n_features}")
        sp.save_npz(self.directory / f"block_{len(self.starts):05d}.npz", sp.csr_matrix(block), compressed=False)
        self.starts.append(self.n_rows)
        self.n_rows += block.shape[0]
        self.block_nnz.append(int(block.nnz))

    def close(self) -> NpzBlocks:
        manifest = {"n_rows": self.n_rows, "n_features": self.n_features, "starts": self.starts,
                    "nnz": sum(self.block_nnz), "block_nnz": self.block_nnz}
        (self.directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        return NpzBlocks(self.directory)


def write_blocks(directory: Path, blocks: Iterable[sp.csr_matrix]) -> int:
    """Write ``blocks`` (CSR, same width) into ``directory`` as an :class:`NpzBlocks` set; rows written."""
    writer: NpzBlockWriter | None = None
    for block in blocks:
        writer = writer or NpzBlockWriter(directory, block.shape[1])
        writer.append(block)
    if writer is None:
        raise ValueError("no row blocks to write")
    return writer.close().n_rows


def matrix_blocks(X: sp.spmatrix, block_rows: int = DEFAULT_BLOCK_ROWS) -> Iterator[sp.csr_matrix]:
    """Consecutive row blocks of a matrix (views of its CSR form)."""
    for _, block in CsrBlocks(sp.csr_matrix(X), block_rows):
        yield block


HASH_ROWS = 500_000  # ids hashed at a time: each slice is made a fixed-width string array first


def hash_folds(row_ids: Any, n_folds: int) -> np.ndarray:
    """Fold of each row from a hash of its id: stable, and computable block by block. ``row_ids``: any
    sliceable sequence of ids (an Arrow-backed pandas array holds no Python string per row)."""
    folds = np.empty(len(row_ids), dtype=np.int16)
    for start in range(0, len(row_ids), HASH_ROWS):
        part = np.asarray(row_ids[start : start + HASH_ROWS], dtype=str)
        hashed = pd.util.hash_pandas_object(pd.Series(part), index=False).to_numpy()
        folds[start : start + len(part)] = hashed % np.uint64(n_folds)
    return folds
