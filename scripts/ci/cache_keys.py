"""Print the cache key for ``uv``, ``nltk`` or ``model`` (standard library only: runs in the gsutil image).

The TRAIN_* defaults are exported by common.sh, the one place that sets them.

- uv:    sha256 of uv.lock + the Python minor version the build uses
- nltk:  sha256 of the sorted NLTK_RESOURCES list
- model: sha256 of the training data's bytes ("none" without TRAIN_DATA), the training config
         (socialscore.yaml bytes, TRAIN_MODE, TRAIN_SET overrides, TRAIN_STEPS), the package version,
         uv.lock (a new scikit-learn or numpy can train a different model) and the pipeline's files:
         every file of src/socialscore minus api/ and terminal/ (as the step cache counts them) — its
         source and its data (e.g. modeling/behaviour/data/identity_probes.yaml), not only *.py
"""

from __future__ import annotations

import hashlib
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the same as socialscore.pipeline.cache.NOT_PIPELINE_SOURCE (stdlib-only copy; tests/deploy/test_ci_copies.py)
NOT_PIPELINE_SOURCE = ("api", "terminal")


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _file_sha(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def training_data_paths() -> list[Path]:
    """TRAIN_DATA: space-separated local paths (gs:// ones were fetched to data/raw/ by fetch_data.sh)."""
    paths = []
    for item in os.environ.get("TRAIN_DATA", "").split():
        path = (
            ROOT / "data" / "raw" / item.rsplit("/", 1)[-1]
            if item.startswith("gs://")
            else Path(item)
        )
        if not path.is_file():
            sys.exit(f"cache_keys: training data {item} not found at {path}")
        paths.append(path)
    return paths


def package_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def pipeline_source() -> bytes:
    """Every file of the package but api/, terminal/ and caches (bytecode, numba's): code and data."""
    root = ROOT / "src" / "socialscore"
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_PIPELINE_SOURCE or "__pycache__" in relative.parts:
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def model_key() -> str:
    data = training_data_paths()
    if not data:  # no training data, no model to cache (train-model refuses to run)
        return "none"
    data_part = b"".join(_file_sha(p) for p in data)
    config_file = ROOT / "socialscore.yaml"
    config = [
        config_file.read_bytes() if config_file.exists() else b"",
        os.environ.get("TRAIN_MODE", "").encode(),
        " ".join(os.environ.get("TRAIN_SET", "").split()).encode(),
        " ".join(os.environ.get("TRAIN_STEPS", "").split()).encode(),
    ]
    lock = (ROOT / "uv.lock").read_bytes()
    return _sha(data_part, *config, package_version().encode(), lock, pipeline_source())[:32]


def uv_key() -> str:
    python = (
        os.environ.get("UV_PYTHON_VERSION") or f"{sys.version_info.major}.{sys.version_info.minor}"
    )
    return _sha((ROOT / "uv.lock").read_bytes(), python.encode())[:32]


def nltk_key() -> str:
    resources = sorted(set(os.environ.get("NLTK_RESOURCES", "").split()))
    return _sha(" ".join(resources).encode())[:32] if resources else "none"


KEYS = {"uv": uv_key, "nltk": nltk_key, "model": model_key}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in KEYS:
        sys.exit(f"usage: cache_keys.py {{{'|'.join(KEYS)}}}")
    print(KEYS[sys.argv[1]]())
