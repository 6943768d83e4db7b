"""Progress of a long step in rows: a rich bar (rows done, rows/s, elapsed) on a terminal, plain lines
(``features: 40,000 of 100,000 rows, 12,345 rows/s, 3.2 s``) at most every few seconds otherwise, so a
log file or CI output shows a step is moving without control codes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PLAIN_EVERY_S = 5.0  # a plain line at most this often (and one at the end)


@contextmanager
def row_progress(console: Any, description: str, total: int | None,
                 clock: Callable[[], float] = time.perf_counter) -> Iterator[Callable[[int], None]]:
    """``with row_progress(console, "features", n) as advance: ... advance(rows)``; no console: silent."""
    if console is None:
        yield lambda rows: None
        return
    if console.is_terminal:
        with _bar(console, description, total) as advance:
            yield advance
        return
    started = last = clock()
    done = 0

    def line() -> None:
        seconds = clock() - started
        of = f" of {total:,}" if total else ""
        rate = f", {done / seconds:,.0f} rows/s" if seconds > 0 else ""
        console.print(f"{description}: {done:,}{of} rows{rate}, {seconds:.1f} s", markup=False, highlight=False,
                      soft_wrap=True)

    def advance(rows: int) -> None:
        nonlocal done, last
        done += rows
        if clock() - last >= PLAIN_EVERY_S:
            last = clock()
            line()

    yield advance
    if done:
        line()


@contextmanager
def _bar(console: Any, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TextColumn("rows"), TextColumn("{task.fields[rate]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(escape(description), total=total, rate="")
        started = time.perf_counter()

        def advance(rows: int) -> None:
            bar.advance(task, rows)
            seconds = time.perf_counter() - started
            done = bar.tasks[0].completed
            bar.update(task, rate=f"{done / seconds:,.0f} rows/s" if seconds > 0 else "")

        yield advance
