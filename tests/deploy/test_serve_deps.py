"""The serving install (the `serve` dependency group the API image installs) against what serving loads.

The image serves a copy of ``models/`` without the project's registry database, from an install without
scikit-learn, skops, pandas or joblib: serving that copy must not need them, and a model that does need
them (random_forest) must say so in one line. The Dockerfile's replay, which builds the real serving
venv and scores with it, is in test_dockerfile.py (slow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "api"))

# the served copy as the image has it: a directory named models/, no database next to it
PROBE = r"""
import json, sys
from pathlib import Path
from socialscore.registry.serving import load_checked
pipeline = load_checked(Path(sys.argv[1]))
pipeline.score(["you idiot"])
print(json.dumps([m for m in ("sqlalchemy", "sklearn", "pandas", "joblib", "skops") if m in sys.modules]))
"""


def _serve_group() -> list[str]:
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    return [entry.split(">")[0].split("[")[0].split("=")[0].strip().lower() for entry in groups["serve"]]


def test_the_serve_group_leaves_the_training_stack_out() -> None:
    serve = _serve_group()
    for training_only in ("scikit-learn", "pandas", "joblib", "skops", "pyarrow", "matplotlib", "nltk", "psycopg"):
        assert training_only not in serve, training_only
    for needed in ("fastapi", "uvicorn", "numba", "numpy", "scipy"):  # scipy.sparse: the featurizers' matrices
        assert needed in serve, needed


def test_a_served_copy_without_a_database_loads_no_training_or_database_library(tmp_path: Path) -> None:
    from tiny_bundle import build_linear_bundle

    project = tmp_path / "app"  # as /app in the image: /app/models, no data/socialscore.db
    models = build_linear_bundle(project / "models")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALSCORE_", "DATABASE_URL", "DB_"))}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    done = subprocess.run([sys.executable, "-c", PROBE, str(models)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("missing", ["skops.io", "sklearn.tree"])
def test_a_random_forest_without_its_libraries_fails_in_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    from tiny_bundle import build_forest_bundle

    from socialscore.errors import ModelError
    from socialscore.registry.serving import load_served

    models = build_forest_bundle(tmp_path / "models")
    monkeypatch.setitem(sys.modules, missing, None)  # as in the serving image: not installed
    with pytest.raises(ModelError) as raised:
        load_served(models)
    message = str(raised.value)
    assert "\n" not in message
    assert "random_forest" in message and "scikit-learn" in message and "serve" in message, message


# the image's build step `socialscore warm-cache`, run where the training stack cannot be imported
WARM_WITHOUT_TRAINING_STACK = r"""
import sys
BLOCKED = ("pandas", "sklearn", "joblib", "skops", "pyarrow", "sqlalchemy")
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from socialscore.terminal.app import main
sys.argv = ["socialscore", "warm-cache", sys.argv[1]]
main()
"""


@pytest.mark.slow  # compiles the scoring kernels (~20 CPU s)
def test_warm_cache_runs_in_the_serving_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALSCORE_", "NUMBA_"))}
    env["NUMBA_CPU_NAME"] = "generic"  # as the Dockerfile's runtime stage sets it
    done = subprocess.run([sys.executable, "-c", WARM_WITHOUT_TRAINING_STACK, str(tmp_path / "cache")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compiled" in done.stdout and any((tmp_path / "cache").rglob("*.nbi")), done.stdout


@pytest.mark.parametrize("n_buckets", [2**18, 1000])
def test_buckets_without_scikit_learn_are_scikit_learns(monkeypatch: pytest.MonkeyPatch, n_buckets: int) -> None:
    from socialscore.modeling.featurizers.hash_kernel import buckets_of

    grams = ["idiot", "you idiot", " id", "naïve", "Это", "😀 x", "a" * 300, "\udcff", ""]
    expected = buckets_of(grams, n_buckets)  # sklearn's murmurhash3_32
    monkeypatch.setitem(sys.modules, "sklearn.utils", None)  # as in the serving image
    assert buckets_of(grams, n_buckets) == expected
