"""Atomic writes: a temporary file (or directory) beside the target, renamed into place only when
complete, so a crash leaves the old file whole; ``atomic_group`` replaces several files together."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are read by other users (e.g. in Docker)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


JOURNAL_NAME = ".commit.json"


@contextmanager
def atomic_group(directory: Path) -> Iterator[Callable[[str], Path]]:
    """Replace several files of one directory together, or not at all.

    ``stage(name)`` gives a temporary path for ``directory/name``. When the block ends normally every
    staged file is complete and synced; a journal naming them is written atomically, then the files are
    renamed into place and the journal removed. A crash before the journal leaves the old files; a crash
    after it is rolled forward by ``recover`` — so a model is never paired with another model's metadata.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not recover(directory):
        # Staged files with no journal belong to a group that was killed before it committed.
        for leftover in directory.glob(".*.staged"):
            leftover.unlink(missing_ok=True)
    staged: dict[str, Path] = {}

    def stage(name: str) -> Path:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".staged", dir=directory)
        os.close(fd)
        staged[name] = Path(tmp_name)
        return staged[name]

    try:
        yield stage
        for tmp in staged.values():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        write_json_atomic(directory / JOURNAL_NAME, {name: tmp.name for name, tmp in staged.items()})
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    _roll_forward(directory)


def recover(directory: Path) -> bool:
    """Finish a group commit that a crash interrupted after its journal was written."""
    if not (directory / JOURNAL_NAME).exists():
        return False
    _roll_forward(directory)
    return True


def _roll_forward(directory: Path) -> None:
    journal = directory / JOURNAL_NAME
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:  # another process finished it first
        return
    for name, tmp_name in renames.items():
        tmp = directory / tmp_name
        if tmp.exists():
            os.replace(tmp, directory / name)
    journal.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: Path, value: Any) -> None:
    write_text_atomic(target, json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")


def replace_dir_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """Build a directory in a temporary sibling with ``fill`` and swap it in for ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        os.chmod(tmp, 0o755)
        for child in tmp.rglob("*"):
            os.chmod(child, 0o755 if child.is_dir() else 0o644)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
