"""File digests: the sha256 of a file, and of files or directories memoised by (size, mtime)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


class FileHasher:
    """sha256 of files, memoised by (size, mtime_ns) so an unchanged rerun does not reread them."""

    def __init__(self, memo: dict[str, list[Any]] | None = None) -> None:
        self.memo: dict[str, list[Any]] = memo or {}

    def file(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        cached = self.memo.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        digest = sha256_file(path)
        self.memo[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def path(self, path: Path) -> str:
        if path.is_dir():
            inner = hashlib.sha256()
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                inner.update(str(child.relative_to(path)).encode())
                inner.update(self.file(child).encode())
            return inner.hexdigest()
        return self.file(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
