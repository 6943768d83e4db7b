"""The pipeline's artifacts: where each lives, how it is read, written (atomically) and hashed.

Steps never build paths; they ask the context for an artifact by key. Writers always write to a
temporary file beside the target and rename it into place, so a crash leaves the old file whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout

Kind = Literal["parquet", "csv", "json", "npz", "npy", "blocks", "featurizer", "html", "dir", "table"]


@dataclass(frozen=True)
class Artifact:
    key: str
    kind: Kind
    producer: str
    locate: Callable[[Layout, Settings], Any]
    description: str = ""


def _model_path(layout: Layout, settings: Settings) -> Path:
    """The registry folder of the version this mode's train step registered last (see its metadata)."""
    try:
        version = json.loads(layout.model_metadata.read_text(encoding="utf-8"))["model_version"]
    except (OSError, ValueError, KeyError, TypeError):
        return layout.models_dir / "registry" / f".none-{layout.mode}"
    return layout.models_dir / "registry" / str(version)


ARTIFACTS: dict[str, Artifact] = {
    a.key: a
    for a in [
        Artifact("raw", "parquet", "extract", lambda lay, s: lay.interim("raw"), "rows as read"),
        Artifact("clean", "parquet", "transform", lambda lay, s: lay.interim("clean"), "cleaned rows"),
        Artifact(
            "rejected", "csv", "transform", lambda lay, s: lay.interim("rejected", "csv"), "rejected rows"
        ),
        Artifact(
            "comments",
            "table",
            "load",
            lambda lay, s: lay.comments_table(s.database.table_prefix),
            "comments table (system of record)",
        ),
        Artifact(
            "features",
            "blocks",
            "features",
            lambda lay, s: lay.processed_dir / f"features_{lay.mode}",
            "feature rows as npz row blocks + a manifest (train rows first)",
        ),
        Artifact("labels", "npy", "features", lambda lay, s: lay.processed("labels", "npy")),
        Artifact("rows", "parquet", "features", lambda lay, s: lay.processed("rows", "parquet")),
        Artifact(
            "features_metadata",
            "json",
            "features",
            lambda lay, s: lay.processed("features_metadata", "json"),
        ),
        Artifact("vectorizer", "featurizer", "features", lambda lay, s: lay.processed_dir / f"vectorizer_{lay.mode}"),
        Artifact("model", "dir", "train", _model_path, "the registered model version's files"),
        Artifact("model_metadata", "json", "train", lambda lay, s: lay.model_metadata),
        Artifact("metrics", "json", "evaluate", lambda lay, s: lay.metrics),
        Artifact("figures", "dir", "evaluate", lambda lay, s: lay.figures_dir),
        Artifact("report", "html", "evaluate", lambda lay, s: lay.report_html),
        Artifact("predictions", "csv", "predict", lambda lay, s: lay.predictions),
        Artifact("predictions_table", "table", "predict", lambda lay, s: lay.predictions_table),
    ]
}


# --- atomic writes ------------------------------------------------------------------------------
@contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are read by other users (e.g. in Docker)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


JOURNAL_NAME = ".commit.json"


@contextmanager
def atomic_group(directory: Path) -> Iterator[Callable[[str], Path]]:
    """Replace several files of one directory together, or not at all.

    ``stage(name)`` gives a temporary path for ``directory/name``. When the block ends normally every
    staged file is complete and synced; a journal naming them is written atomically, then the files are
    renamed into place and the journal removed. A crash before the journal leaves the old files; a crash
    after it is rolled forward by ``recover`` — so a model is never paired with another model's metadata.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not recover(directory):
        # Staged files with no journal belong to a group that was killed before it committed.
        for leftover in directory.glob(".*.staged"):
            leftover.unlink(missing_ok=True)
    staged: dict[str, Path] = {}

    def stage(name: str) -> Path:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".staged", dir=directory)
        os.close(fd)
        staged[name] = Path(tmp_name)
        return staged[name]

    try:
        yield stage
        for tmp in staged.values():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        write_json_atomic(directory / JOURNAL_NAME, {name: tmp.name for name, tmp in staged.items()})
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    _roll_forward(directory)


def recover(directory: Path) -> bool:
    """Finish a group commit that a crash interrupted after its journal was written."""
    if not (directory / JOURNAL_NAME).exists():
        return False
    _roll_forward(directory)
    return True


def _roll_forward(directory: Path) -> None:
    journal = directory / JOURNAL_NAME
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:  # another process finished it first
        return
    for name, tmp_name in renames.items():
        tmp = directory / tmp_name
        if tmp.exists():
            os.replace(tmp, directory / name)
    journal.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: Path, value: Any) -> None:
    write_text_atomic(target, json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")


def replace_dir_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """Build a directory in a temporary sibling with ``fill`` and swap it in for ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        os.chmod(tmp, 0o755)
        for child in tmp.rglob("*"):
            os.chmod(child, 0o755 if child.is_dir() else 0o644)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


# --- readers and writers by kind ----------------------------------------------------------------
def read_file_artifact(kind: Kind, path: Path) -> Any:
    if kind == "parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if kind == "csv":
        import pandas as pd

        return pd.read_csv(path, keep_default_na=False, dtype=str)
    if kind == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    if kind == "npz":
        import scipy.sparse as sp

        return sp.load_npz(path)
    if kind == "npy":
        import numpy as np

        return np.load(path, allow_pickle=False)
    if kind == "blocks":
        from socialscore.modeling.training.out_of_core_blocks import NpzBlocks

        return NpzBlocks(path)
    if kind == "featurizer":
        return _read_featurizer(path)
    if kind == "html":
        return path.read_text(encoding="utf-8")
    if kind == "dir":
        return path
    raise ValueError(f"no reader for kind {kind!r}")


# Rows per parquet row group: the writer holds one row group's encoded pages until it is complete.
PARQUET_ROW_GROUP = 65_536


def iter_parquet(path: Path, rows: int, columns: list[str] | None = None) -> Iterator[Any]:
    """A parquet file as pandas frames of at most ``rows`` rows, index = row number (one batch in
    memory at a time); a file without rows gives one empty frame with the file's columns."""
    import pandas as pd
    import pyarrow.parquet as pq

    # Buffered page reads without pre-buffering: a batch reads only its pages, even when the file is
    # one row group (pre_buffer reads whole column chunks: the size of the file).
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20) as handle:
        start = 0
        for batch in handle.iter_batches(batch_size=rows, columns=columns):
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
        if not start:
            yield handle.schema_arrow.empty_table().select(columns or handle.schema_arrow.names).to_pandas()


def write_parquet_parts(path: Path, parts: Iterable[Any]) -> None:
    """The pandas frames (or Arrow tables) of ``parts`` as one parquet file, one part in memory at a
    time; the schema (with pandas' metadata) is the first part's. Empty parts are skipped unless all
    are empty (then the file has the first part's columns and no rows); no part: ValueError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, empty = None, None
    try:
        for part in parts:
            table = pa.Table.from_pandas(part, preserve_index=False) if hasattr(part, "to_parquet") else part
            if not table.num_rows:
                empty = table if empty is None else empty
                continue
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema), row_group_size=PARQUET_ROW_GROUP)
        if writer is None:
            if empty is None:
                raise ValueError(f"no parts to write to {path}")
            pq.write_table(empty, path)
    finally:
        if writer is not None:
            writer.close()


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        return handle.metadata.num_rows


def write_file_artifact(kind: Kind, path: Path, value: Any) -> None:
    if kind == "parquet":
        with atomic_path(path, ".parquet") as tmp:
            if hasattr(value, "to_parquet"):  # a pandas frame, else a pyarrow Table
                value.to_parquet(tmp, index=False, row_group_size=PARQUET_ROW_GROUP)
            elif not hasattr(value, "schema"):  # an iterable of frames or tables: streamed
                write_parquet_parts(tmp, value)
            else:
                import pyarrow.parquet as pq

                pq.write_table(value, tmp, row_group_size=PARQUET_ROW_GROUP)
    elif kind == "csv":
        from socialscore.storage.csvsafe import write_csv_safe

        with atomic_path(path, ".csv") as tmp:
            write_csv_safe(value, tmp)
    elif kind == "json":
        write_json_atomic(path, value)
    elif kind == "npz":
        import scipy.sparse as sp

        with atomic_path(path, ".npz") as tmp:
            sp.save_npz(tmp, value, compressed=False)
    elif kind == "npy":
        import numpy as np

        with atomic_path(path, ".npy") as tmp:
            np.save(tmp, value, allow_pickle=False)
    elif kind == "blocks":
        # value: a sparse matrix, or an iterable of CSR row blocks (streamed: one block in memory)
        import scipy.sparse as sp

        from socialscore.modeling.training.out_of_core_blocks import matrix_blocks, write_blocks

        blocks = matrix_blocks(value) if sp.issparse(value) else value
        replace_dir_atomic(path, lambda tmp_dir: write_blocks(tmp_dir, blocks))
    elif kind == "featurizer":
        replace_dir_atomic(path, lambda tmp_dir: _write_featurizer(tmp_dir, value))
    elif kind == "html":
        write_text_atomic(path, value)
    elif kind == "dir":
        # value: {relative file name: bytes}
        def fill(tmp_dir: Path) -> None:
            for name, data in value.items():
                (tmp_dir / name).write_bytes(data)

        replace_dir_atomic(path, fill)
    else:
        raise ValueError(f"no writer for kind {kind!r}")


FEATURIZER_FILES = ("featurizer.json", "arrays.npz", "vocab.json")


def _write_featurizer(directory: Path, featurizer: Any) -> None:
    """A fitted featuriser as plain JSON + arrays (never a pickle: loading it runs no code)."""
    import numpy as np

    from socialscore.modeling.scorer.serialize import featurizer_state

    meta, arrays, vocabularies = featurizer_state(featurizer)
    (directory / "featurizer.json").write_text(json.dumps(meta, default=str), encoding="utf-8")
    with open(directory / "arrays.npz", "wb") as handle:
        np.savez(handle, **arrays)
    (directory / "vocab.json").write_text(json.dumps(vocabularies, ensure_ascii=False), encoding="utf-8")


def _read_featurizer(directory: Path) -> Any:
    import numpy as np

    from socialscore.modeling.scorer.serialize import featurizer_from_state

    meta = json.loads((directory / "featurizer.json").read_text(encoding="utf-8"))
    vocabularies = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    with np.load(directory / "arrays.npz", allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return featurizer_from_state(meta, arrays, vocabularies)


# --- hashing ------------------------------------------------------------------------------------
class FileHasher:
    """sha256 of files, memoised by (size, mtime_ns) so an unchanged rerun does not reread them."""

    def __init__(self, memo: dict[str, list[Any]] | None = None) -> None:
        self.memo: dict[str, list[Any]] = memo or {}

    def file(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        cached = self.memo.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        digest = sha256_file(path)
        self.memo[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def path(self, path: Path) -> str:
        if path.is_dir():
            inner = hashlib.sha256()
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                inner.update(str(child.relative_to(path)).encode())
                inner.update(self.file(child).encode())
            return inner.hexdigest()
        return self.file(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
