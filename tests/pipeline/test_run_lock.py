"""One run at a time per project and mode: a second run fails fast naming the holder, or waits."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from socialscore.pipeline.lock import RunLocked, run_lock

SMALL = "data:\n  example_rows: 300\nfeatures:\n  char_ngram_range: null\n  min_df: 1\ntrain:\n  cv_folds: 2\n"


def test_a_second_holder_fails_fast_naming_the_first(tmp_path: Path) -> None:
    with run_lock(tmp_path, "dev"):
        with pytest.raises(RunLocked, match=r"pid \d+, started 20") as locked:
            with run_lock(tmp_path, "dev"):
                pass
        assert "--wait" in str(locked.value) and "\n" not in str(locked.value)
        with run_lock(tmp_path, "prod"):  # another mode is another lock
            pass


def test_wait_takes_the_lock_when_it_is_released(tmp_path: Path) -> None:
    order: list[str] = []

    def first() -> None:
        with run_lock(tmp_path, "dev"):
            order.append("first in")
            time.sleep(0.5)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    with run_lock(tmp_path, "dev", wait=True):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from socialscore.pipeline.lock import run_lock\n"
        f"with run_lock(Path({str(tmp_path)!r}), 'dev'):\n    print('held', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    with pytest.raises(RunLocked):
        with run_lock(tmp_path, "dev"):
            pass
    child.kill()
    child.wait(10)
    with run_lock(tmp_path, "dev"):  # kill -9 released it
        pass


@pytest.mark.slow
def test_two_runs_started_at_once(project_dir: Path) -> None:
    """No traceback and no mixed artifacts: one runs, the other says who holds the lock (or waits)."""
    (project_dir / "socialscore.yaml").write_text(SMALL)
    # up to train: the lock is held for the whole run either way; evaluate's report adds only CPU
    argv = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", "dev", "--project-dir", str(project_dir),
            "--steps", "extract", "transform", "load", "features", "train"]
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    import os

    env = {**os.environ, **env}
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(r.wait(300), *r.communicate()) for r in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    assert "another socialscore run" in loser and "Traceback" not in loser
    assert len(loser.strip().splitlines()) == 1
    waiter = subprocess.run([*argv, "--wait", "--force", "train"], env=env, capture_output=True, text=True, timeout=300)
    assert waiter.returncode == 0, waiter.stderr
    status = subprocess.run([sys.executable, "-m", "socialscore.terminal.app", "status", "--mode", "dev",
                             "--project-dir", str(project_dir)], env=env, capture_output=True, text=True, timeout=120)
    assert "stale" not in status.stdout and "changed" not in status.stdout, status.stdout
