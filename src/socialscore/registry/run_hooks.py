"""The registry's hooks around a pipeline run: the run history, the served-model restore and the
served files a run lists; and the served model's line of ``socialscore status``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from socialscore.errors import SocialScoreError

if TYPE_CHECKING:
    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.pipeline.hooks import RunHooks, RunParams
    from socialscore.pipeline.orchestrator import RunSummary
    from socialscore.registry.store import ModelRegistry
    from socialscore.storage.db.database import Database


def serving_hooks(
    settings: Settings, layout: Layout, database: Callable[[], Database], logger: logging.Logger
) -> list[RunHooks]:
    """The hooks every ``socialscore run`` has, in call order; they share one registry, built on first use
    on the run's database."""
    from socialscore.registry.store import ModelRegistry

    registry = cache(lambda: ModelRegistry.for_project(settings, layout, database()))
    return [RunHistory(registry, logger), ServedModelRestore(registry, logger), ServedFiles(layout, logger)]


def served_status(settings: Settings, layout: Layout, database: Callable[[], Database]) -> tuple[str, list[str]]:
    """The production model's state and reasons: which version the registry names, whether its files match."""
    from socialscore.registry.serving import served_problems
    from socialscore.registry.store import PRODUCTION, ModelRegistry

    try:
        registry = ModelRegistry.for_project(settings, layout, database())
        version, problems = registry.alias(PRODUCTION), served_problems(registry)
    except SocialScoreError as exc:
        return "blocked", [str(exc)]
    if version is None:
        return "never run", ["no production model yet (a prod run that passes the gate, or: socialscore models promote VERSION)"]
    if problems:
        return "stale", [*problems, "the next run restores it from the registry"]
    return "up to date", [f"production = {version}"]


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


class ServedFiles:
    """After a run, list the exported files of each alias a step promoted (bundle.json and the files it lists)."""

    def __init__(self, layout: Layout, logger: logging.Logger):
        self.layout, self.logger = layout, logger

    def before_pipeline_run(self, run: RunParams) -> None:
        pass

    def after_pipeline_run(self, run: RunParams, summary: RunSummary) -> None:
        for outcome in summary.steps:
            if outcome.outcome in ("ran", "cached"):
                summary.files += [self.layout.shown(p) for p in self._files(outcome.facts.get("promoted") or [])]

    def on_pipeline_error(self, run: RunParams, exc: BaseException) -> None:
        pass

    def _files(self, aliases: list[str]) -> list[Path]:
        from socialscore.registry.serving import MANIFEST, alias_dir, read_manifest

        paths: list[Path] = []
        for alias in aliases:
            directory = alias_dir(self.layout.models_dir, alias)
            try:
                listed = read_manifest(directory).get("files", {})
            except SocialScoreError as exc:
                self.logger.warning("served files of %s not listed: %s", alias, exc)
                continue
            paths += [directory / MANIFEST, *(directory / name for name in listed)]
        return paths
