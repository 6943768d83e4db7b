"""Where the benchmarks find the shared data sets: ``$SOCIALSCORE_SHARED_DIR``, else ``../shared``
beside the repository (the same rule as the tests' ``shared_file`` fixture)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("SOCIALSCORE_SHARED_DIR", REPO_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under the shared directory, e.g. ``shared_path("data", "jigsaw", "x.csv")``."""
    return shared_dir().joinpath(*parts)


JIGSAW_SAMPLE = shared_path("data", "jigsaw", "cleaned_training_sample.csv")


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over repeated runs (dicts with the same keys)."""
    import statistics

    return {key: float(statistics.median(run[key] for run in runs)) for key in runs[0]}
