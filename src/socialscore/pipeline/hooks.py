"""Hooks around a pipeline run, in Kedro's ``before_pipeline_run`` / ``after_pipeline_run`` style.

The orchestrator is generic: what a project does around a run (record it, restore the served model)
is a hook it calls directly, in order, inside the run lock. The project's hooks are in
``registry/run_hooks.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from socialscore.pipeline.orchestrator import RunSummary


@dataclass(frozen=True)
class RunParams:
    """What a hook knows about the run it is called around."""

    run_id: str
    mode: str
    requested: list[str]  # the selected steps, in pipeline order
    config: dict[str, Any]  # the settings as JSON
    code_version: str


class RunHooks(Protocol):
    def before_pipeline_run(self, run: RunParams) -> None: ...

    def after_pipeline_run(self, run: RunParams, summary: RunSummary) -> None: ...

    def on_pipeline_error(self, run: RunParams, exc: BaseException) -> None:
        """The run stopped on an unexpected fault (full disk, Ctrl-C); the exception is raised again after."""
