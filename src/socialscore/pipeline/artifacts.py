"""The pipeline's artifacts: where each lives and how each kind is read and written.

Steps never build paths; they ask the context for an artifact by key. Writers always write to a
temporary file beside the target and rename it into place (``storage.atomic``), so a crash leaves the
old file whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from socialscore.storage.atomic import (
    atomic_path,
    replace_dir_atomic,
    write_json_atomic,
    write_text_atomic,
)
from socialscore.storage.parquet import PARQUET_ROW_GROUP, write_parquet_parts

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
    """A fitted featurizer as plain JSON + arrays (never a pickle: loading it runs no code)."""
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
