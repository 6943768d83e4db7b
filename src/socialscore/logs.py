"""Logging to the console (rich) and to logs/pipeline_{mode}.log. Messages never hold comment text."""

from __future__ import annotations

import logging
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

_FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# ``logger.error(..., extra=FILE_ONLY)``: for the log file only, when the caller prints the message itself
FILE_ONLY = {"file_only": True}


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def setup_logging(log_file: Path | None, console: Console | None = None, verbose: bool = False) -> None:
    """Send the ``socialscore`` loggers to the console and (appending) to ``log_file``."""
    root = logging.getLogger("socialscore")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console_handler = RichHandler(
        console=console or Console(stderr=True),
        show_path=False,
        show_time=False,
        markup=False,
        rich_tracebacks=verbose,
    )
    console_handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console_handler.addFilter(_not_file_only)
    root.addHandler(console_handler)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(_FILE_FORMAT))
        file_handler.setLevel(logging.DEBUG)
        root.addHandler(file_handler)
    root.propagate = False
