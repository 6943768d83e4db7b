"""Long steps show rows done and rows/s: a rich bar on a terminal, plain lines when the output is not one."""

from __future__ import annotations

import io

from rich.console import Console

from socialscore.pipeline.progress import PLAIN_EVERY_S, row_progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_not_a_terminal_gets_plain_lines_with_rows_and_rate() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    clock = Clock()
    with row_progress(console, "[features] counting", 30_000, clock=clock) as advance:
        for _ in range(3):
            clock.now += PLAIN_EVERY_S
            advance(10_000)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()  # no control codes in a log or CI output
    assert lines[0] == "[features] counting: 10,000 of 30,000 rows, 2,000 rows/s, 5.0 s"
    assert lines[-1] == "[features] counting: 30,000 of 30,000 rows, 2,000 rows/s, 15.0 s"


def test_plain_lines_are_rate_limited() -> None:
    out = io.StringIO()
    clock = Clock()
    with row_progress(Console(file=out, force_terminal=False), "x", None, clock=clock) as advance:
        for _ in range(1000):
            clock.now += 0.001
            advance(1)
    assert out.getvalue().splitlines() == ["x: 1,000 rows, 1,000 rows/s, 1.0 s"]  # only the final line


def test_a_terminal_gets_a_bar_with_rows_per_second() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with row_progress(console, "[predict] scoring", 100) as advance:
        advance(50)
        rendered = console._live_stack[-1].get_renderable() if console._live_stack else None  # noqa: SLF001
        assert rendered is not None
        text = Console(file=io.StringIO(), width=120, force_terminal=False)
        text.print(rendered)
        shown = text.file.getvalue()
    assert "[predict] scoring" in shown and "50/100" in shown and "rows/s" in shown
