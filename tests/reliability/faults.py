"""Faults made for real: a read-only directory (bind mount), a full disk (tmpfs), damaged databases.

Mounting needs root (CI runs the suite as root in its container). Without it, the read-only case uses
``chmod`` (which holds for a non-root user) and the full-disk case raises ENOSPC from the write call
itself (a fault injection); each test says which one it used.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _mount(*args: str) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextmanager
def read_only(directory: Path) -> Iterator[str]:
    """``directory`` made read-only for the block; yields how ("bind mount" or "chmod")."""
    if _mount("--bind", "-o", "ro", str(directory), str(directory)):
        try:
            yield "bind mount"
        finally:
            _umount(directory)
        return
    modes = {p: p.stat().st_mode for p in [directory, *directory.rglob("*")] if p.is_dir()}
    for path in modes:
        path.chmod(0o555)
    try:
        probe = directory / ".write-probe"
        try:
            probe.touch()
        except PermissionError:
            yield "chmod"
        else:  # root without the right to mount: nothing can make the directory read-only here
            probe.unlink()
            import pytest

            pytest.skip("cannot make a directory read-only: root without CAP_SYS_ADMIN")
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@contextmanager
def full_disk(directory: Path, size: str = "256k") -> Iterator[bool]:
    """A tmpfs of ``size`` on ``directory`` for the block; yields False when it cannot be mounted."""
    directory.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)):
        yield False
        return
    try:
        yield True
    finally:
        _umount(directory)
