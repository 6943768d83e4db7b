"""Per-step code fingerprints: a step reruns when the code it runs changes, not when another module does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import socialscore
from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.pipeline import cache, codehash
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.codehash import (
    code_digest,
    imported_modules,
    module_closure,
    step_code_roots,
)
from socialscore.pipeline.context import StepContext, StepSpec
from socialscore.pipeline.orchestrator import Orchestrator
from socialscore.pipeline.registry import BY_NAME, STEPS



def _roots(name: str) -> tuple[str, ...]:
    step = BY_NAME[name]
    return step_code_roots(step.run, step.sources)


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package's source that the code hashing reads instead of the real one."""
    copy = tmp_path / "socialscore"
    shutil.copytree(Path(socialscore.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codehash, "package_root", lambda: copy)
    codehash.forget()
    cache.code_version.cache_clear()
    yield copy
    codehash.forget()
    cache.code_version.cache_clear()


def _edit(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    codehash.forget()
    cache.code_version.cache_clear()


def test_imports_inside_functions_count_and_type_checking_ones_do_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\nimport socialscore.errors\nfrom socialscore import layout\n"
        "if TYPE_CHECKING:\n    from socialscore.config import Settings\n"
        "def f():\n    from .artifacts import atomic_path\n    from . import lock\n"
    )
    found = imported_modules("socialscore.pipeline.cache", source, is_package=False)
    assert {"socialscore.errors", "socialscore.layout", "socialscore.pipeline.artifacts",
            "socialscore.pipeline.lock"} <= found
    assert not any(m.startswith("socialscore.config") for m in found)


def test_only_evaluate_runs_the_report_code() -> None:
    # predict reads the model through the registry (ctx.read("model")), not through evaluate
    for step in STEPS:
        closure = module_closure(_roots(step.name))
        assert f"socialscore.steps.{step.name}" in closure
        assert "socialscore.terminal.app" not in closure and not any(m.startswith("socialscore.api") for m in closure)
        assert ("socialscore.reports.evaluation" in closure) == (step.name == "evaluate"), step.name


@pytest.mark.slow
def test_editing_the_report_changes_only_the_steps_that_run_it(package_copy: Path) -> None:
    before = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    _edit(package_copy / "reports" / "evaluation.py", "# .band { color: #c00 }  -- a CSS tweak")
    after = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    assert [n for n in before if before[n] != after[n]] == ["evaluate"]


@pytest.mark.slow
def test_editing_a_step_changes_that_step(package_copy: Path) -> None:
    before = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    _edit(package_copy / "steps" / "load.py", "LOAD_EDITED = True")
    after = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    assert before["load"] != after["load"]
    assert before["transform"] == after["transform"] and before["extract"] == after["extract"]


@pytest.mark.slow
def test_editing_the_probe_set_changes_the_steps_that_read_it(package_copy: Path) -> None:
    """Package data counts as code: the features step adds the probe set's sentences to training."""
    before = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    _edit(package_copy / "modeling" / "behaviour" / "data" / "identity_probes.yaml", "# one more template")
    after = {s.name: code_digest(_roots(s.name)) for s in STEPS}
    changed = [n for n in before if before[n] != after[n]]
    assert "features" in changed and "evaluate" in changed


def test_declared_package_data_is_read_statically() -> None:
    source = 'NAME = "data/a.yaml"\nPACKAGE_DATA = (NAME, "data/b.json")\n'
    assert codehash.declared_data(source) == ("data/a.yaml", "data/b.json")
    assert codehash.declared_data("X = 1\n") == ()

CALLS: list[str] = []
ARTS = {
    "a": Artifact("a", "json", "first", lambda lay, s: lay.interim("a", "json")),
    "b": Artifact("b", "json", "second", lambda lay, s: lay.interim("b", "json")),
}


def _first(ctx: StepContext) -> None:
    CALLS.append("first")
    ctx.write("a", [1])


def _second(ctx: StepContext) -> None:
    CALLS.append("second")
    ctx.write("b", ctx.read("a"))


_first.target_module = "socialscore.steps.transform"  # type: ignore[attr-defined]  # hashed as that step's code
_second.target_module = "socialscore.steps.evaluate"  # type: ignore[attr-defined]
FAKE_STEPS = (
    StepSpec("first", reads=(), writes=("a",), config=(), run=_first),
    StepSpec("second", reads=("a",), writes=("b",), config=(), run=_second),
)


@pytest.mark.slow
def test_orchestrator_reruns_only_the_step_whose_code_changed(package_copy: Path, project_dir: Path) -> None:
    def run() -> list[str]:
        CALLS.clear()
        settings = load_settings("dev", project_dir)
        summary = Orchestrator(settings, Layout.for_settings(settings, project_dir), steps=FAKE_STEPS, artifacts=ARTS).run()
        assert summary.ok, summary.error
        return [f"{o.name}:{o.outcome}:{o.reason}" for o in summary.steps]

    assert run() == ["first:ran:never run", "second:ran:never run"]
    assert run() == ["first:cached:", "second:cached:"]
    _edit(package_copy / "reports" / "evaluation.py", "# restyled")
    assert run() == ["first:cached:", "second:ran:code changed"]
    _edit(package_copy / "text" / "normalize.py", "# reworded")
    assert run() == ["first:ran:code changed", "second:ran:code changed"]


@pytest.mark.slow
def test_an_unchanged_rerun_reuses_the_recorded_step_code_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    memo: dict[str, str] = {}
    first = {s.name: cache.step_code_version(s, memo) for s in STEPS}
    assert len(memo) == len(STEPS)

    def no_parsing(roots: tuple[str, ...]) -> str:
        raise AssertionError(f"parsed the source again for {roots}")

    monkeypatch.setattr(codehash, "code_digest", no_parsing)
    assert {s.name: cache.step_code_version(s, memo) for s in STEPS} == first


def test_a_fresh_project_reuses_the_code_versions_another_project_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # this user's cache only
    key = f"{cache.code_version()}|socialscore.steps.train"
    first = cache.StateStore(tmp_path / "a" / "state_dev.json")
    first.code_memo[key] = "0.1.0+abc"
    first.save()
    fresh = cache.StateStore(tmp_path / "b" / "state_dev.json")  # another project: no state file yet
    assert fresh.code_memo == {key: "0.1.0+abc"}


def test_another_code_version_or_a_damaged_user_memo_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = cache.shared_code_memo_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"0.0.9+old|socialscore.steps.train": "0.0.9+old"}')
    assert cache.StateStore(tmp_path / "state_dev.json").code_memo == {}
    path.write_text("{not json")
    assert cache.StateStore(tmp_path / "state_dev.json").code_memo == {}
