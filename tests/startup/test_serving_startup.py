"""A fresh serving process, as a new pod meets it: the shipped numba cache is used (nothing compiles),
no training stack is imported, and every lazy builder is built before the first request.

Each check runs in a subprocess, with an empty NUMBA_CACHE_DIR as a pod's empty /tmp has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # compiles the kernels once (~20 CPU s) into a shipped cache

# load the served bundle the way the API does, score, then report what the process holds
PROBE = r"""
import json, sys
from pathlib import Path
from socialscore.api.deps import ModelHolder, score_loaded
from socialscore.api.numba_cache import kernel_stats
from socialscore.modeling.behaviour import language
from socialscore.text.pii import web

holder = ModelHolder(Path(sys.argv[1]), "production")
holder.load()
after_warm_up = web._extractor.cache_info()
score_loaded(holder.require(), ["have a look at example.com you idiot"])
first_request = web._extractor.cache_info()
heavy = ("sklearn", "scipy.stats", "pandas", "sqlalchemy", "psycopg", "matplotlib", "pyarrow")
print(json.dumps({"kernels": kernel_stats(), "imported": [m for m in heavy if m in sys.modules],
                  "extractor_built_at_warm_up": after_warm_up.currsize,
                  "builds_on_first_request": first_request.misses - after_warm_up.misses,
                  "language_model_decompressed": language._model_data is not None}))
"""


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A shipped cache warmed by ``socialscore warm-cache`` and a default-shaped served bundle."""
    from socialscore.api.numba_cache import warm_pipeline
    from socialscore.registry.serving import export_pipeline

    root = tmp_path_factory.mktemp("pod")
    cache = root / "numba-cache"
    done = subprocess.run([sys.executable, "-m", "socialscore", "warm-cache", str(cache)],
                          capture_output=True, text=True, timeout=600, env=_env(root / "build-tmp", None))
    assert done.returncode == 0, done.stderr
    models = root / "models"
    export_pipeline(warm_pipeline(), models, {"model_version": "warm-1", "alias": "production"})
    return {"cache": cache, "models": models, "root": root}


def _env(numba_cache_dir: Path | None, shipped: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALSCORE_", "NUMBA_"))}
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    if shipped is not None:
        env["SOCIALSCORE_NUMBA_SHIPPED_CACHE"] = str(shipped)
    return env


def _probe(models: Path, env: dict[str, str]) -> dict:
    script = "from socialscore.api.startup import prepare_kernels; prepare_kernels()\n" + PROBE
    done = subprocess.run([sys.executable, "-c", script, str(models)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_fresh_pod_compiles_nothing_and_imports_no_training_stack(shipped: dict[str, Path]) -> None:
    empty_tmp = shipped["root"] / "pod-tmp" / "numba"  # what NUMBA_CACHE_DIR=/tmp/numba is in a new pod
    report = _probe(shipped["models"], _env(empty_tmp, shipped["cache"]))
    assert report["kernels"]["misses"] == 0, report
    assert report["kernels"]["hits"] > 0, report
    assert report["imported"] == [], report


def test_serving_start_up_does_not_decompress_the_language_model(shipped: dict[str, Path]) -> None:
    report = _probe(shipped["models"], _env(shipped["root"] / "pod-tmp-3", shipped["cache"]))
    assert report["language_model_decompressed"] is False, report
    assert report["kernels"]["misses"] == 0, report  # the mapped arrays have the types the kernel was compiled for


def test_pii_checkers_are_built_at_start_up_not_on_the_first_request(shipped: dict[str, Path]) -> None:
    report = _probe(shipped["models"], _env(shipped["root"] / "pod-tmp-2", shipped["cache"]))
    assert report["extractor_built_at_warm_up"] == 1, report
    assert report["builds_on_first_request"] == 0, report


@pytest.mark.parametrize("case", ["shipped cache missing", "cache directory not writable"])
def test_without_a_usable_cache_the_kernels_compile_and_scoring_works(shipped: dict[str, Path], case: str) -> None:
    root = shipped["root"] / case.replace(" ", "-")
    root.mkdir()
    if case == "shipped cache missing":
        env = _env(root / "numba", root / "no-such-cache")
    else:
        blocker = root / "a-file"
        blocker.write_text("numba cannot make a directory under a file\n")
        env = _env(blocker / "numba", shipped["cache"])
    report = _probe(shipped["models"], env)
    assert report["kernels"]["hits"] + report["kernels"]["misses"] > 0, report
    assert report["imported"] == [], report
    if case == "shipped cache missing":
        assert report["language_model_decompressed"] is True, report


def test_install_reports_each_fallback(tmp_path: Path) -> None:
    from socialscore.api.numba_cache import install_shipped_cache

    assert "unset" in install_shipped_cache({})
    assert "missing" in install_shipped_cache({"SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(tmp_path / "none"),
                                               "NUMBA_CACHE_DIR": str(tmp_path / "c")})
    source = tmp_path / "shipped" / "modeling_x"
    source.mkdir(parents=True)
    (source / "k.nbi").write_bytes(b"index")
    env = {"SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(tmp_path / "shipped"), "NUMBA_CACHE_DIR": str(tmp_path / "c")}
    assert "1 file(s) copied" in install_shipped_cache(env)
    assert (tmp_path / "c" / "modeling_x" / "k.nbi").read_bytes() == b"index"
    assert "0 file(s) copied" in install_shipped_cache(env)  # a second worker keeps what is there
    (tmp_path / "blocked").write_text("")
    blocked = {**env, "NUMBA_CACHE_DIR": str(tmp_path / "blocked" / "c")}
    assert "compile on first use" in install_shipped_cache(blocked)
