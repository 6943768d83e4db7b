"""Batch prediction rows/s: the local engine vs Apache Beam's local runner (FnApiRunner), same output.

    uv run python benchmarks/scale_data.py --rows 1000000 --out /tmp/scale_1m.csv --seed 7
    uv run python benchmarks/bench_beam.py --data /tmp/scale_1m.csv --models-dir PROJECT/models

Runs, in order: the local engine (``socialscore predict``: one process, then ``n_jobs=-1`` worker
processes), then Beam with ``direct_num_workers`` 1 and 2 (``direct_running_mode=multi_processing``
for 2, so the workers are processes, not GIL-bound threads). Each output file is compared byte for
byte with the first local one (sha256 printed). Wall and CPU of this process plus its children
(``resource.getrusage``) are printed per run; on a shared machine the load average is printed too.
Without ``--models-dir`` the served model of ``socialscore run --mode prod`` on the shared Jigsaw
sample is trained first in a temporary project (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _shared import JIGSAW_SAMPLE

from socialscore.storage.digest import sha256_file

RUNS = {  # --runs name → run
    "local-1": "local n_jobs=1",
    "local-all": "local n_jobs=-1",
    "beam-1": "beam FnApiRunner direct_num_workers=1",
    "beam-2": "beam FnApiRunner direct_num_workers=2",
}
SHARED = JIGSAW_SAMPLE


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function, *args) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), cpu_seconds()
    function(*args)
    return time.perf_counter() - t0, cpu_seconds() - c0


def train_model(work: Path) -> Path:
    project = work / "project"
    project.mkdir()
    subprocess.run(
        ["socialscore", "run", "--mode", "prod", "--data", str(SHARED), "--project-dir", str(project)], check=True
    )
    return project / "models"


def count_rows(path: Path) -> int:
    import pandas as pd

    return sum(len(chunk) for chunk in pd.read_csv(path, usecols=[0], chunksize=200_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV of comments (benchmarks/scale_data.py)")
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--work", type=Path, help="where outputs go (default: a temporary directory)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS),
                        help="which runs, in this order (the first one's output is the reference)")
    args = parser.parse_args()

    from socialscore.beam.predict import predict_file_beam
    from socialscore.steps.predict import predict_file, served_loader

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-beam-"))
    work.mkdir(parents=True, exist_ok=True)
    models = args.models_dir or train_model(work)
    rows = count_rows(args.data)
    print(f"{rows:,} rows from {args.data}; model {models}; chunk {args.chunk_size:,}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    every = {
        "local n_jobs=1": lambda out: predict_file(args.data, out, served_loader(models), chunk_size=args.chunk_size, n_jobs=1),
        "local n_jobs=-1": lambda out: predict_file(args.data, out, served_loader(models), chunk_size=args.chunk_size, n_jobs=-1),
        "beam FnApiRunner direct_num_workers=1": lambda out: predict_file_beam(
            str(args.data), str(out), str(models), chunk_size=args.chunk_size, pipeline_args=["--direct_num_workers=1"]),
        "beam FnApiRunner direct_num_workers=2": lambda out: predict_file_beam(
            str(args.data), str(out), str(models), chunk_size=args.chunk_size,
            pipeline_args=["--direct_num_workers=2", "--direct_running_mode=multi_processing"]),
    }
    runs = {RUNS[key]: every[RUNS[key]] for key in args.runs}
    results, reference = [], None
    for number, (name, run) in enumerate(runs.items()):
        out = work / f"out-{number}.csv"
        load = os.getloadavg()[0]
        wall, cpu = timed(run, out)
        digest = sha256_file(out)
        reference = reference or digest
        results.append({"run": name, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "rows_per_s": round(rows / wall),
                        "identical_to_local": digest == reference, "sha256": digest[:16], "load_before": round(load, 2)})
        print(f"{name:40s} {wall:8.1f} s wall {cpu:8.1f} s cpu {rows / wall:10,.0f} rows/s  "
              f"sha256 {digest[:16]} identical={digest == reference}  (load {load:.2f})", flush=True)
        out.unlink()
    report = {
        "utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "chunk_size": args.chunk_size,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if not all(r["identical_to_local"] for r in results):
        sys.exit("outputs differ")


if __name__ == "__main__":
    main()
