"""The compiled language detector's arrays saved unpacked (``.npy``), so a process maps them instead of
LZMA-decompressing py3langid's 4.5 MB model into 68 MB at every start (~0.9 CPU s).

``socialscore warm-cache DIR`` writes them to ``DIR/language-model`` beside the numba kernels; serving
start-up loads them from there (``language.load_saved_arrays``). They are keyed by the sha256 of
py3langid's model file and :data:`FORMAT`: another py3langid, or another layout, is refused and the
model is decompressed as before. Arrays are memory-mapped copy-on-write: pages are read when used
and shared by the workers of a pod, and numba sees plain writable arrays (the types it compiled for).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1  # bump when the fields or their meaning change
FIELDS = ("nextmove", "rowbase", "output", "ptc_bits", "pc", "alias")
KEY_FILE = "key.json"


def model_file() -> Path:
    """py3langid's shipped model (``model.npz.xz``)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return Path(MODEL_FILE) if Path(MODEL_FILE).is_absolute() else Path(MODEL_DIR) / MODEL_FILE


def model_key() -> str:
    """What the saved arrays were made from: this layout and the model file's sha256."""
    return f"{FORMAT}:{hashlib.sha256(model_file().read_bytes()).hexdigest()}"


def save(arrays: Any, directory: Path) -> None:
    """Write ``arrays`` (a ``language.KernelArrays``) to ``directory``, replacing what is there."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide it from the image's non-root user
        for name in FIELDS:
            np.save(scratch / f"{name}.npy", np.ascontiguousarray(getattr(arrays, name)), allow_pickle=False)
        key = {"key": model_key(), "classes": list(arrays.classes)}
        (scratch / KEY_FILE).write_text(json.dumps(key), encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(scratch, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def load(directory: Path) -> tuple[dict[str, Any] | None, str]:
    """(the ``KernelArrays`` fields, memory-mapped; None when unusable) and what happened, in words."""
    try:
        key = json.loads((directory / KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"no saved language model in {directory} ({exc.__class__.__name__})"
    if not isinstance(key, dict) or key.get("key") != model_key():
        return None, f"the saved language model in {directory} was made from another py3langid model or layout"
    try:
        fields: dict[str, Any] = {name: np.asarray(np.load(directory / f"{name}.npy", mmap_mode="c"))
                                  for name in FIELDS}
    except (OSError, ValueError) as exc:
        return None, f"the saved language model in {directory} cannot be read ({exc})"
    fields["classes"] = [str(c) for c in key["classes"]]
    return fields, f"language model mapped from {directory}"
