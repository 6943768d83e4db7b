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


def medians(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each figure's median over repeated runs (dicts with the same keys; a figure absent (None) stays None)."""
    import statistics

    return {key: None if runs[0][key] is None else float(statistics.median(run[key] for run in runs))
            for key in runs[0]}


def vm_mb(pid: int, field: str = "VmHWM") -> float:
    """``field`` of /proc/PID/status in MB (VmHWM: peak RSS; VmRSS: RSS now). In a child, VmHWM is its own peak
    (``ru_maxrss`` would count the parent's RSS at fork)."""
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def cpu_ms_per_text(score, texts: list[str], batch: int = 256) -> dict[str, float]:
    """CPU ms per text of ``score(list_of_texts)``: one text per call, then in batches of ``batch``."""
    import time

    t0 = time.process_time()
    for text in texts:
        score([text])
    single = (time.process_time() - t0) / len(texts)
    t0 = time.process_time()
    for start in range(0, len(texts), batch):
        score(texts[start : start + batch])
    return {"single_ms": single * 1000, "batch_ms": (time.process_time() - t0) / len(texts) * 1000}
