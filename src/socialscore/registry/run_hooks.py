"""The registry's hooks around a pipeline run: the run history and the served-model restore."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from socialscore.errors import SocialScoreError

if TYPE_CHECKING:
    from socialscore.pipeline.hooks import RunHooks, RunParams
    from socialscore.pipeline.orchestrator import RunSummary
    from socialscore.registry.store import ModelRegistry


def serving_hooks(registry: Callable[[], ModelRegistry], logger: logging.Logger) -> list[RunHooks]:
    """The hooks every ``socialscore run`` has, in call order."""
    return [RunHistory(registry, logger), ServedModelRestore(registry, logger)]


class RunHistory:
    """Records each run in the registry's run table; a database that cannot be written is a warning."""

    def __init__(self, registry: Callable[[], ModelRegistry], logger: logging.Logger):
        self.registry, self.logger = registry, logger

    def before_pipeline_run(self, run: RunParams) -> None:
        import os

        from socialscore.registry.store import run_host

        with self._recorded():
            self.registry().start_run(
                {
                    "run_id": run.run_id,
                    "mode": run.mode,
                    "pid": os.getpid(),
                    "steps": {"requested": run.requested, "host": run_host()},
                    "config": run.config,
                    "code": {"version": run.code_version},
                },
            )

    def after_pipeline_run(self, run: RunParams, summary: RunSummary) -> None:
        facts = {o.name: o.facts for o in summary.steps if o.facts}
        version = (facts.get("train") or {}).get("version")
        with self._recorded():
            self.registry().finish_run(
                run.run_id,
                status="ok" if summary.ok else "failed",
                steps={"outcomes": {o.name: {"outcome": o.outcome, "seconds": round(o.seconds, 3), "reason": o.reason}
                                    for o in summary.steps}},
                facts=facts,
                version=version,
                error=summary.error,
            )

    def on_pipeline_error(self, run: RunParams, exc: BaseException) -> None:
        """Close the run's record (best effort: the disk may be full; then ``registry.reap_runs`` closes it
        when a later command reads the run table)."""
        from socialscore.errors import as_expected

        reason = as_expected(exc) or exc
        status = "aborted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
        error = f"{reason.__class__.__name__}: {reason}"[:2000]
        with self._recorded(Exception):
            self.registry().finish_run(run.run_id, status=status, error=error)

    @contextmanager
    def _recorded(self, catch: type[BaseException] = SocialScoreError) -> Iterator[None]:
        try:
            yield
        except catch as exc:
            self.logger.warning("run history not recorded: %s", exc)


class ServedModelRestore:
    """Before a run, rewrite the production export when it no longer matches the registry."""

    def __init__(self, registry: Callable[[], ModelRegistry], logger: logging.Logger):
        self.registry, self.logger = registry, logger

    def before_pipeline_run(self, run: RunParams) -> None:
        """Rewrite the production export when it no longer matches the registry (deleted or changed files)."""
        from socialscore.registry.serving import export_alias, served_problems
        from socialscore.registry.store import PRODUCTION

        try:
            registry = self.registry()
            problems = served_problems(registry)
            if problems:
                self.logger.warning("served model: %s; restoring it from the registry", problems[0])
                export_alias(registry, PRODUCTION)
        except SocialScoreError as exc:  # the registry cannot be read: the steps will say why if it matters
            self.logger.warning("served model not checked: %s", exc)

    def after_pipeline_run(self, run: RunParams, summary: RunSummary) -> None:
        pass

    def on_pipeline_error(self, run: RunParams, exc: BaseException) -> None:
        pass
