"""Reads the project's optional ``.env`` once; variables already set in the environment win."""

from __future__ import annotations

from pathlib import Path

_loaded: set[Path] = set()


def load_dotenv_once(project_dir: Path) -> None:
    path = (project_dir / ".env").resolve()
    if path in _loaded or not path.exists():
        return
    from dotenv import load_dotenv

    load_dotenv(path, override=False)
    _loaded.add(path)
