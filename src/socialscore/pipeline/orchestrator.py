"""Runs the steps in pipeline order: fingerprints, skips what is cached, times, logs, summarises.

The module form is ``python -m socialscore run ...`` (socialscore/__main__.py), so this module never imports the CLI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from socialscore.errors import MissingArtifactError, SocialScoreError
from socialscore.logs import FILE_ONLY
from socialscore.pipeline.artifacts import ARTIFACTS, Artifact
from socialscore.pipeline.cache import (
    StateStore,
    code_version,
    explain_staleness,
    fingerprint_of,
    step_code_version,
)
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.hooks import RunHooks, RunParams
from socialscore.pipeline.registry import STEPS

if TYPE_CHECKING:
    from rich.console import Console

    from socialscore.config import Settings
    from socialscore.layout import Layout
    from socialscore.storage.db.database import Database

Outcome = Literal["ran", "cached", "failed", "skipped"]
LOGGER_NAME = "socialscore.pipeline"


@dataclass
class StepOutcome:
    name: str
    outcome: Outcome
    seconds: float
    reason: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    mode: str
    steps: list[StepOutcome]
    seconds: float
    files: list[str]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class StepStatus:
    name: str
    state: Literal["up to date", "stale", "never run", "blocked"]
    reasons: list[str]


def select_steps(names: Iterable[str] | None, steps: tuple[StepSpec, ...] = STEPS) -> list[StepSpec]:
    """The named steps (all when ``None``), always in pipeline order."""
    if not names:
        return list(steps)
    wanted = list(names)
    known = [step.name for step in steps]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SocialScoreError(f"unknown step {unknown[0]!r}: the steps are {', '.join(known)}")
    return [step for step in steps if step.name in wanted]


class Orchestrator:
    def __init__(
        self,
        settings: Settings,
        layout: Layout,
        console: Console | None = None,
        database: Database | None = None,
        steps: tuple[StepSpec, ...] = STEPS,
        artifacts: dict[str, Artifact] = ARTIFACTS,
        engine: str = "local",
        beam_args: tuple[str, ...] = (),
        hooks: Sequence[RunHooks] | None = None,
    ) -> None:
        self.engine, self.beam_args = engine, tuple(beam_args)  # same outputs either way: not in the cache key
        self.steps = steps
        self.artifacts = artifacts
        self.settings = settings
        self.layout = layout.check(settings)  # the mode is the settings' own: one run, one mode
        self.console = console
        self._database = database
        self.logger = logging.getLogger(LOGGER_NAME)
        self.state = StateStore(layout.state_file)
        self.run_id: str | None = None
        if hooks is None:  # the project's own: run history, served-model restore, served files
            from socialscore.registry.run_hooks import serving_hooks

            hooks = serving_hooks(settings, self.layout, lambda: self.db, self.logger)
        self.hooks = list(hooks)

    # --- shared pieces --------------------------------------------------------------------------
    @property
    def db(self) -> Database:
        if self._database is None:
            from socialscore.storage.db.database import Database

            self._database = Database.from_settings(self.settings, self.layout)
        return self._database

    def _context(self, step: StepSpec) -> StepContext:
        return StepContext(
            step=step.name,
            settings=self.settings,
            layout=self.layout,
            logger=self.logger,
            console=self.console,
            database_factory=lambda: self.db,
            artifacts=self.artifacts,
            run_id=self.run_id,
            engine=self.engine,
            beam_args=self.beam_args,
        )

    def _artifact_hash(self, key: str) -> str | None:
        """Content hash of an artifact, or None when it does not exist."""
        artifact = self.artifacts[key]
        where = artifact.locate(self.layout, self.settings)
        if artifact.kind == "table":
            return self.db.table_checksum(where)
        path = Path(where)
        if not path.exists():
            return None
        return self.state.hasher.path(path)

    def _components(self, step: StepSpec) -> dict[str, str]:
        components: dict[str, str] = {"code:": step_code_version(step, self.state.code_memo)}
        for key in step.reads:
            digest = self._artifact_hash(key)
            if digest is None:
                raise MissingArtifactError(
                    f"step '{step.name}' needs {key} ({self.artifacts[key].locate(self.layout, self.settings)}),"
                    f" which does not exist; run step '{self.artifacts[key].producer}' first"
                )
            components[f"input:{key}"] = digest
        if step.sources is not None:
            for path in step.sources(self.layout, self.settings):
                components[f"input:{path}"] = self.state.hasher.path(path)
        for key, digest in self.settings.slice_digest(step.config).items():
            components[f"config:{key}"] = digest
        return components

    def _outputs_unchanged(self, step: StepSpec, recorded: dict[str, str]) -> list[str]:
        """Reasons the recorded outputs are no longer there as written (empty when intact)."""
        reasons = []
        for key in step.writes:
            now = self._artifact_hash(key)
            if now is None:
                reasons.append(f"output {key} is missing")
            elif recorded.get(key) != now:
                reasons.append(f"output {key} was changed")
        return reasons

    # --- status ---------------------------------------------------------------------------------
    def status(self) -> list[StepStatus]:
        result = []
        for step in self.steps:
            record = self.state.get(step.name)
            try:
                components = self._components(step)
            except MissingArtifactError as exc:
                state = "never run" if record is None else "blocked"
                result.append(StepStatus(step.name, state, [str(exc)]))
                continue
            except SocialScoreError as exc:  # e.g. the database is unreachable: say so per step
                result.append(StepStatus(step.name, "blocked", [str(exc)]))
                continue
            if record is None:
                result.append(StepStatus(step.name, "never run", []))
                continue
            reasons = explain_staleness(record.components, components)
            reasons += self._outputs_unchanged(step, record.outputs)
            result.append(StepStatus(step.name, "stale" if reasons else "up to date", reasons))
        return result

    # --- run ------------------------------------------------------------------------------------
    def run(
        self, steps: Iterable[str] | None = None, force: bool | Iterable[str] = False, wait: bool = False
    ) -> RunSummary:
        """Run the steps while holding this project's and mode's run lock (``wait`` for it, or fail fast)."""
        from socialscore.pipeline.lock import run_lock

        selected = select_steps(steps, self.steps)
        self.layout.ensure()
        with run_lock(self.layout.state_dir, self.settings.mode, wait):
            # what the state said before the lock is stale when another run held it (--wait): read it again
            self.state = StateStore(self.layout.state_file)
            self.run_id = new_run_id(self.settings.mode)
            run = RunParams(
                self.run_id,
                self.settings.mode,
                [s.name for s in selected],
                self.settings.model_dump(mode="json"),
                code_version(),
            )
            for hook in self.hooks:
                hook.before_pipeline_run(run)
            try:
                summary = self._run_locked(selected, force)
            except BaseException as exc:  # a fault outside the steps' expected errors (full disk, Ctrl-C)
                for hook in self.hooks:
                    hook.on_pipeline_error(run, exc)
                raise
            for hook in self.hooks:
                hook.after_pipeline_run(run, summary)
        return summary

    def _run_locked(self, selected: list[StepSpec], force: bool | Iterable[str]) -> RunSummary:
        forced = {s.name for s in self.steps} if force is True else set(force or [])
        started = time.perf_counter()
        outcomes: list[StepOutcome] = []
        error = None
        self.logger.info(
            "run mode=%s steps=%s code=%s", self.settings.mode, ",".join(s.name for s in selected), code_version()
        )
        try:
            for step in selected:
                outcome = self._run_step(step, force=step.name in forced)
                outcomes.append(outcome)
        except SocialScoreError as exc:
            error = str(exc)
            failed = next(s for s in selected if s.name not in {o.name for o in outcomes})
            outcomes.append(StepOutcome(failed.name, "failed", 0.0, error))
            for step in selected[selected.index(failed) + 1 :]:
                outcomes.append(StepOutcome(step.name, "skipped", 0.0, "an earlier step failed"))
            self.logger.error("step %s failed: %s", failed.name, error, extra=FILE_ONLY)  # the CLI prints it
            self.logger.debug("traceback of the failure in step %s", failed.name, exc_info=True)
        finally:
            self.state.save()
        files = self._files(selected, outcomes)
        summary = RunSummary(self.settings.mode, outcomes, time.perf_counter() - started, files, error)
        self.logger.info("run finished in %.2fs (%s)", summary.seconds, "ok" if summary.ok else "failed")
        return summary

    def _run_step(self, step: StepSpec, force: bool) -> StepOutcome:
        t0 = time.perf_counter()
        components = self._components(step)
        fingerprint = fingerprint_of(components)
        record = self.state.get(step.name)
        if not force and record is not None and record.fingerprint == fingerprint:
            broken = self._outputs_unchanged(step, record.outputs)
            if not broken:
                self.logger.info("step %s cached", step.name)
                return StepOutcome(step.name, "cached", time.perf_counter() - t0, "", record.facts)
            reason = "; ".join(broken)
        elif force:
            reason = "forced"
        elif record is None:
            reason = "never run"
        else:
            reason = "; ".join(explain_staleness(record.components, components))
        engine = self.engine if self.engine in step.engines else "local"
        self.logger.info("step %s running (%s) on the %s engine", step.name, reason, engine)
        ctx = self._context(step)
        self.state.forget(step.name)
        if engine != "local":
            ctx.fact("engine", engine)  # the summary says which steps another engine ran
        step.adapter(engine)(ctx)
        outputs = {}
        for key in step.writes:
            digest = self._artifact_hash(key)
            if digest is None:
                raise SocialScoreError(f"step '{step.name}' did not write its output {key}")
            outputs[key] = digest
        seconds = time.perf_counter() - t0
        self.state.record(step.name, fingerprint, components, outputs, seconds, ctx.facts)
        self.state.save()
        self.logger.info("step %s done in %.2fs %s", step.name, seconds, ctx.facts)
        return StepOutcome(step.name, "ran", seconds, reason, ctx.facts)

    def _files(self, selected: list[StepSpec], outcomes: list[StepOutcome]) -> list[str]:
        done = {o.name for o in outcomes if o.outcome in ("ran", "cached")}
        files = []
        for step in selected:
            if step.name not in done:
                continue
            for key in step.writes:
                artifact = self.artifacts[key]
                where = artifact.locate(self.layout, self.settings)
                if artifact.kind == "table":
                    files.append(f"table {where} ({self.db.describe()})")
                else:
                    files.append(self.layout.shown(Path(where)))
        return files


def new_run_id(mode: str) -> str:
    import os
    from datetime import UTC, datetime

    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%f')}-{mode}-{os.getpid()}"
