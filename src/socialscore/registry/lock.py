"""The registry's export lock: one alias export at a time per models directory (an OS file lock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock


@contextmanager
def export_lock(models_dir: Path) -> Iterator[None]:
    """Serialises alias exports (a dev and a prod run may both move ``staging``)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(models_dir / ".export.lock", timeout=-1, thread_local=False, is_singleton=False):
        yield
