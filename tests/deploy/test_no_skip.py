"""SOCIALSCORE_NO_SKIP=1 turns every skip into a failure, including a module skipped while it is
imported (`pytest.importorskip` at module level: 7 test modules did that, and CI let them skip)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, body: str, strict: bool) -> subprocess.CompletedProcess[str]:
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "tests" / "conftest.py", suite / "conftest.py")
    (suite / "test_optional.py").write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "SOCIALSCORE_NO_SKIP"}
    if strict:
        env["SOCIALSCORE_NO_SKIP"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
                          cwd=suite, env=env, capture_output=True, text=True, timeout=120)


IMPORT_TIME = 'import pytest\nlib = pytest.importorskip("no_such_module_for_socialscore")\n\ndef test_x():\n    assert lib\n'
IN_TEST = 'import pytest\n\ndef test_x():\n    pytest.skip("no server")\n'


@pytest.mark.parametrize("body", [IMPORT_TIME, IN_TEST], ids=["import-time", "in-test"])
def test_a_skip_is_a_skip_normally_and_a_failure_under_no_skip(tmp_path: Path, body: str) -> None:
    relaxed = _run(tmp_path, body, strict=False)
    # 0, or 5 when the only module was skipped whole ("no tests ran"): either way not a failure
    assert relaxed.returncode in (0, 5) and "1 skipped" in relaxed.stdout, relaxed.stdout
    strict = _run(tmp_path, body, strict=True)
    assert strict.returncode in (1, 2), strict.stdout  # failed tests / errors in collection
    assert "under SOCIALSCORE_NO_SKIP=1" in strict.stdout
