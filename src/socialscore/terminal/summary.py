"""What a run prints: the banner before and the timing summary after (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.pipeline.orchestrator import RunSummary

_STYLE = {"ran": "green", "cached": "cyan", "failed": "bold red", "skipped": "dim"}


def print_banner(console: Console, settings: Settings, steps: list[str] | None) -> None:
    from socialscore import __version__
    from socialscore.pipeline.registry import STEP_NAMES

    chosen = [s for s in STEP_NAMES if not steps or s in steps]
    sample = settings.transform.sample_size
    console.print(
        Panel.fit(
            f"[bold]socialscore {__version__}[/]  mode [bold]{settings.mode}[/]\n"
            f"steps: {' → '.join(chosen)}\n"
            f"sample: {'all rows' if sample is None else f'up to {sample:,} rows'} · "
            f"cv folds: {settings.train.cv_folds} · model: {settings.model.type}"
            f" ({settings.model.n_estimators} estimators where it uses trees)",
            title="pipeline",
        )
    )


def _facts(facts: dict) -> str:
    parts = []
    for key, value in facts.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, int):
            parts.append(f"{key}={value:,}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def format_seconds(seconds: float) -> str:
    """Two decimals; a time under 0.005 s shows as ``<0.01`` (never 0.00 beside a non-zero total)."""
    return f"{seconds:.2f}" if seconds >= 0.005 else "<0.01"


def rows_used(summary: RunSummary) -> str | None:
    """The line saying how many rows the run used, from the transform step's facts (None without them)."""
    facts = next((o.facts for o in summary.steps if o.name == "transform" and o.facts), None)
    if not facts or "rows_kept" not in facts:
        return None
    sampled_out = facts.get("sampled_out", 0)
    how = f"a sample; {sampled_out:,} more left out" if sampled_out else "every usable row"
    return f"rows used: {facts['rows_kept']:,} of {facts['rows_in']:,} read ({how})"


def print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"timing summary — mode {summary.mode}")
    table.add_column("step")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("details", overflow="fold")
    for outcome in summary.steps:
        detail = outcome.reason if outcome.outcome == "skipped" else _facts(outcome.facts)
        if outcome.outcome == "failed":
            detail = "see the error below"  # printed once, by the caller
        if outcome.outcome == "ran" and outcome.reason and outcome.reason != "never run":
            detail = f"({outcome.reason}) {detail}"
        table.add_row(
            outcome.name,
            f"[{_STYLE[outcome.outcome]}]{outcome.outcome}[/]",
            "-" if outcome.outcome in ("failed", "skipped") else format_seconds(outcome.seconds),
            detail,
        )
    table.add_row("[bold]total[/]", "", f"[bold]{format_seconds(summary.seconds)}[/]", "")
    console.print(table)
    used = rows_used(summary)
    if used:
        console.print(used, highlight=False)
    if summary.files:
        console.print("[bold]files[/]")
        for name in summary.files:
            console.print(f"  {name}", highlight=False)
