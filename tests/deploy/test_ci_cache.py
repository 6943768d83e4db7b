"""The CI caches: file:// backend round trip, cache keys, the audit verdict, and the local two-run test
(tests → train-model twice; the second run restores the model without training)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "scripts" / "ci"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, CI / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source "{CI}/common.sh"\n{script}'],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def test_file_backend_round_trip_and_immutability(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    (src / "nested" / "a.txt").write_text("one")
    env = {"CACHE_URL": f"file://{tmp_path / 'cache'}"}
    assert _bash("cache_exists demo k1", env).returncode == 1
    assert _bash(f'cache_put demo k1 "{src}"', env).returncode == 0
    assert (tmp_path / "cache" / "demo" / "k1.tar.gz").is_file()
    (src / "nested" / "a.txt").write_text("two")
    again = _bash(f'cache_put demo k1 "{src}"', env)
    assert "already holds" in again.stdout  # keys are content hashes: never overwritten
    dest = tmp_path / "dest"
    fetched = _bash(f'cache_exists demo k1 && cache_fetch demo k1 "{dest}"', env)
    assert fetched.returncode == 0, fetched.stderr
    assert (dest / "nested" / "a.txt").read_text() == "one"


def test_an_unknown_backend_is_an_error(tmp_path: Path) -> None:
    result = _bash("cache_exists demo k1", {"CACHE_URL": "s3://bucket"})
    assert result.returncode != 0 and "gs:// or file://" in result.stderr


def _key(name: str, **env: str) -> str:
    base = {
        "TRAIN_DATA": "",
        "TRAIN_MODE": "dev",
        "TRAIN_SET": "",
        "TRAIN_STEPS": "extract train",
        "NLTK_RESOURCES": "",
    }
    result = subprocess.run(
        ["python3", str(CI / "cache_keys.py"), name],
        env={**os.environ, **base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.slow
def test_model_key_follows_data_config_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("id,comment_text,toxic\n1,hello,0\n")
    key = _key("model", TRAIN_DATA=str(data))
    assert key == _key("model", TRAIN_DATA=str(data))
    assert _key("model") == "none"  # no training data: no model to cache (train-model refuses)
    assert key != _key("model", TRAIN_DATA=str(data), TRAIN_SET="train.cv_folds=4")
    assert key != _key("model", TRAIN_DATA=str(data), TRAIN_MODE="prod")
    # the file's bytes count, not its name or timestamp
    copy = tmp_path / "copy.csv"
    shutil.copy(data, copy)
    assert _key("model", TRAIN_DATA=str(copy)) == key
    data.write_text("id,comment_text,toxic\n1,hello,1\n")
    assert _key("model", TRAIN_DATA=str(data)) != key


def test_model_key_covers_the_lock_the_package_data_and_the_training_config(tmp_path: Path) -> None:
    """A new scikit-learn in uv.lock, an edited identity_probes.yaml or socialscore.yaml retrains; an API
    change does not (the key is computed on a copy of the project, changed one file at a time)."""
    root = tmp_path / "project"
    (root / "scripts" / "ci").mkdir(parents=True)
    shutil.copy2(CI / "cache_keys.py", root / "scripts" / "ci")
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    data = tmp_path / "train.csv"
    data.write_text("id,comment_text,toxic\n1,hello,0\n")

    def key() -> str:
        env = {**os.environ, "TRAIN_DATA": str(data), "TRAIN_MODE": "prod", "TRAIN_SET": "", "TRAIN_STEPS": "train"}
        return subprocess.run(["python3", str(root / "scripts/ci/cache_keys.py"), "model"], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()

    seen = {key()}
    lock = root / "uv.lock"
    lock.write_text(lock.read_text().replace('name = "scikit-learn"\nversion = "', 'name = "scikit-learn"\nversion = "9', 1))
    seen.add(key())
    probes = root / "src/socialscore/modeling/behaviour/data/identity_probes.yaml"
    probes.write_text(probes.read_text() + "\n# edited\n")
    seen.add(key())
    (root / "socialscore.yaml").write_text("train:\n  cv_folds: 4\n")
    seen.add(key())
    assert len(seen) == 4
    api = root / "src/socialscore/api/service.py"
    api.write_text(api.read_text() + "\n# an API-only change\n")
    numba_cache = root / "src/socialscore/modeling/__pycache__/kernel.nbi"
    numba_cache.parent.mkdir(exist_ok=True)
    numba_cache.write_bytes(b"compiled here")
    assert key() in seen and len(seen) == 4


@pytest.mark.slow
def test_uv_and_nltk_keys() -> None:
    assert _key("uv") == _key("uv")
    assert _key("nltk") == "none"
    assert _key("nltk", NLTK_RESOURCES="wordnet stopwords") == _key(
        "nltk", NLTK_RESOURCES="stopwords wordnet"
    )


def test_audit_verdicts() -> None:
    judge = _module("audit_summary").judge
    clean = {"dependencies": [{"name": "a", "version": "1", "vulns": []}]}
    vulnerable = {
        "dependencies": [
            {"name": "a", "version": "1", "vulns": [{"id": "PYSEC-1", "fix_versions": ["2"]}]}
        ]
    }
    unreachable = {"dependencies": [{"name": "a", "skip_reason": "Dependency not found on PyPI"}]}
    assert judge(clean)[0] == 0
    code, lines = judge(vulnerable, allow_unreachable=True)
    assert code == 1 and any("PYSEC-1" in line for line in lines)
    assert judge(unreachable)[0] == 2
    assert judge(unreachable, allow_unreachable=True)[0] == 0


def _workspace(target: Path) -> Path:
    """A copy of the project as CI would check it out (tracked + new, not ignored, files)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.slow
def test_second_build_restores_the_model_without_training(tmp_path: Path) -> None:
    from socialscore.storage.synthetic import generate_example

    data = tmp_path / "train.csv"  # real data is required: a small labelled file stands in for it
    generate_example(600, 42).to_csv(data, index=False)
    uv_cache = subprocess.run(
        ["uv", "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "CI_CACHE_DIR", "UV_PROJECT_ENVIRONMENT")
    }
    env.update(
        {
            "CACHE_URL": f"file://{tmp_path / 'bucket'}",
            "CI_CACHES": "nltk model",  # the uv cache is this machine's own (reused: no network, no 1 GB tarball)
            "UV_CACHE_DIR": uv_cache,
            "UV_PROJECT_ENVIRONMENT": str(
                tmp_path / "venv"
            ),  # one venv for both runs: the model cache is on trial
            "PYTEST_ARGS": "tests/deploy/test_cloudbuild.py -q -p no:cacheprovider",
            "TRAIN_MODE": "prod",
            "TRAIN_DATA": str(data),
            "SOCIALSCORE_NO_SKIP": "0",  # one small test file: no PostgreSQL or browser needed
            # evaluate runs the gate and exports the served model; this small model is not held to the
            # behaviour checks here (this test is about the cache)
            "TRAIN_STEPS": "extract transform load features train evaluate",
            "TRAIN_SET": "train.cv_folds=2 features.char_ngram_range=null gate.behaviour=[] gate.min_f1=null",
            "NLTK_RESOURCES": "",
        }
    )
    checkout = _workspace(tmp_path / "checkout")  # one commit, checked out afresh for each build
    outputs, shas = [], []
    for run in (1, 2):
        workspace = shutil.copytree(checkout, tmp_path / f"workspace{run}", symlinks=True)
        result = subprocess.run(
            ["bash", "scripts/ci/run.sh", "restore-cache", "tests", "train-model", "save-cache"],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        assert "=== step tests ok" in output and " passed" in output
        outputs.append(output)
        shas.append(
            hashlib.sha256((workspace / "models" / "arrays.npz").read_bytes()).hexdigest()
        )
    first, second = outputs
    assert "cache miss: model" in first and "training (mode prod)" in first
    assert "cache saved: model" in first
    assert "cache restored: model" in second and "cache hit: model" in second
    assert "training (mode prod)" not in second
    assert shas[0] == shas[1]
    # training was not invoked: no pipeline log, no intermediate data in the second workspace
    second_ws = tmp_path / "workspace2"
    assert not (second_ws / "logs").exists() and not (second_ws / "data" / "interim").exists()
    assert "served model verified" in second
    assert len(list((tmp_path / "bucket" / "model").glob("*.tar.gz"))) == 1
