"""A project with a registry of real (tiny) model versions, made in about a second: no pipeline run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from tiny_bundle import build_tiny_pipeline  # noqa: E402


@pytest.fixture(scope="session")
def tiny_pipeline():
    return build_tiny_pipeline("tiny-template")


@pytest.fixture
def registry(project_dir: Path):
    """The project's registry (SQLite under data/), built the one way: ``ModelRegistry.for_project``."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry

    settings = load_settings("prod", project_dir)
    return ModelRegistry.for_project(settings, Layout.for_settings(settings, project_dir))


@pytest.fixture
def add_version(registry, tiny_pipeline) -> Callable[..., str]:
    """``add_version("v1", mode="prod", status="passed", threshold=0.5)`` → a registered version with its files."""
    import copy

    def add(version: str, mode: str = "prod", status: str = "passed", threshold: float = 0.5,
            created_at: str | None = None) -> str:
        pipeline = copy.deepcopy(tiny_pipeline)
        pipeline.card = {**pipeline.card, "model_version": version}
        pipeline.thresholds = {label: threshold for label in pipeline.thresholds}
        files = pipeline.save(registry.version_dir(version))
        record = {"version": version, "mode": mode, "model_type": "logistic_regression", "status": status,
                  "files": files, "config": {}, "data": {}, "code": {}, "metrics": {},
                  "gate": {"passed": status == "passed", "checks": []}}
        if created_at:
            record["created_at"] = created_at
        registry.register(record)
        return version

    return add
