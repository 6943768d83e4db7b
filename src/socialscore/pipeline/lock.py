"""One run at a time per project directory and mode (an OS file lock: a killed run releases it)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from socialscore.errors import SocialScoreError


class RunLocked(SocialScoreError):
    """Another run holds the lock for this project and mode."""


@contextmanager
def run_lock(state_dir: Path, mode: str, wait: bool = False) -> Iterator[None]:
    """Hold ``state_dir/run_{mode}.lock`` for the block; fail fast naming the holder unless ``wait``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"run_{mode}.lock"
    holder = state_dir / f"run_{mode}.holder.json"
    lock = FileLock(path, timeout=-1 if wait else 0, thread_local=False, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise RunLocked(
            f"another socialscore run ({_describe(holder)}) is running mode {mode} in {state_dir.parent}; "
            "wait for it to finish or pass --wait"
        ) from None
    try:
        holder.write_text(
            json.dumps({"pid": os.getpid(), "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "argv": sys.argv[1:]}),
            encoding="utf-8",
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _describe(holder: Path) -> str:
    try:
        info = json.loads(holder.read_text(encoding="utf-8"))
        return f"pid {info['pid']}, started {info['started_at']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"
