"""The CLI's rich consoles, made on first use: importing rich costs ``socialscore --help`` ~0.2 CPU s."""

from __future__ import annotations

from typing import Any


class LazyConsole:
    """A ``rich.console.Console`` built when first printed to; ``get()`` hands the real one to code that wants it."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def get(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def table(**options: Any) -> Any:
    """A ``rich.table.Table`` (rich imported only by the commands that print one)."""
    from rich.table import Table

    return Table(**options)
