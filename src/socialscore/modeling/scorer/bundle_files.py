"""A stored pipeline's file names and their sha256 check, without numpy: checking that the served files
still match (every ``socialscore run``) must not pay for the numeric stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from socialscore.errors import ModelError

PIPELINE_FILE = "pipeline.json"
ARRAYS_FILE = "arrays.npz"
VOCAB_FILE = "vocab.json"
FILES = (PIPELINE_FILE, ARRAYS_FILE, VOCAB_FILE)


def verify_files(directory: Path, expected: Mapping[str, str], names: Sequence[str]) -> None:
    """Refuse a file that is missing, unrecorded or changed since its sha256 was recorded."""
    from socialscore.storage.digest import sha256_file

    for name in names:
        path = directory / name
        if not path.is_file():
            raise ModelError(f"{path} does not exist: the model is incomplete; restore or retrain it")
        want = expected.get(name)
        if not want:
            raise ModelError(f"{path} has no recorded sha256; refusing to load it")
        actual = sha256_file(path)
        if actual != want:
            raise ModelError(
                f"{path} does not match its recorded sha256 ({actual[:12]}…, expected {want[:12]}…): "
                "the file was changed or is corrupt; restore it or retrain"
            )
