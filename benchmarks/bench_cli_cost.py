"""The CLI's fixed cost: CPU seconds (user + sys) of the WHOLE process tree, A and B alternated.

    uv run python benchmarks/bench_cli_cost.py [--rounds 3] [--before-src /tmp/before/src] [--cases help,rerun,fresh]

Cases: ``--help``; an unchanged ``run --mode dev`` rerun (every step cached); a dev run from a fresh
project directory on the generated example data. Each variant runs ``python -m socialscore`` with its
``src`` first on PYTHONPATH (``--before-src``: e.g. ``git archive d00a504 src`` unpacked). This process
makes itself a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``) and reaps every descendant before
reading ``RUSAGE_CHILDREN``, so worker processes (loky, joblib) that outlive the command are counted too.
Bytecode is written (PYTHONDONTWRITEBYTECODE is dropped) and one uncounted warm-up per variant and case
compiles it and the numba kernels: the figures are those of a developer's second project, not a first install.
``--no-bytecode`` measures every run compiling every module from source instead (PYTHONDONTWRITEBYTECODE=1 and
an empty PYTHONPYCACHEPREFIX: a venv from ``uv sync`` under an environment that sets the variable).
Prints the per-round figures, then medians (min–max), the ratio A/B per round and the load average.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import REPO_ROOT, shared_path

PR_SET_CHILD_SUBREAPER = 36
CASES = ("help", "rerun", "fresh")


def become_subreaper() -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_orphans(grace: float = 60.0) -> None:
    """Wait for every descendant re-parented to this process (they end on their own when the command has)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("descendants still running after the command ended")
            time.sleep(0.02)


def tree_cpu(cmd: list[str], env: dict[str, str], log: Path, timeout: float = 900) -> tuple[float, float]:
    """(CPU s of the command and all its descendants, wall s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("a") as out:
        code = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
    wall = time.perf_counter() - started
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd[-4:])} exited {code}; see {log}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def variant_env(src: Path, no_bytecode: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith(("DATABASE_URL", "DB_", "SOCIALSCORE_"))}
    env["PYTHONPATH"] = str(src)
    if no_bytecode is not None:  # .pyc looked for (and never written) in an empty directory
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(no_bytecode))
    env.setdefault("NLTK_DATA", str(shared_path("nltk_data")))
    return env


def command(case: str, project: Path) -> list[str]:
    base = [sys.executable, "-m", "socialscore"]
    return [*base, "--help"] if case == "help" else [*base, "run", "--mode", "dev", "--project-dir", str(project)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--before-src", type=Path, help="a src directory to measure beside this checkout's")
    parser.add_argument("--no-bytecode", action="store_true", help="compile every module in every run")
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    become_subreaper()
    variants = {"after": REPO_ROOT / "src"}
    if args.before_src:
        variants["before"] = args.before_src.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    log = scratch / "runs.log"
    empty = scratch / "no-pycache" if args.no_bytecode else None
    print(f"# CLI cost, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load {os.getloadavg()[0]:.1f}; "
          f"{'no bytecode, ' if empty else ''}log {log}", flush=True)
    results: dict[tuple[str, str], list[float]] = {}
    for case in cases:
        projects = {}
        for name, src in variants.items():  # warm-up: bytecode, numba cache; for rerun, the project it reruns
            projects[name] = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))
            tree_cpu(command(case, projects[name]), variant_env(src, empty), log)
        for r in range(args.rounds):
            for name, src in variants.items():
                project = projects[name] if case == "rerun" else Path(tempfile.mkdtemp(dir=scratch))
                cpu, wall = tree_cpu(command(case, project), variant_env(src, empty), log)
                results.setdefault((case, name), []).append(cpu)
                print(f"{case:6} round {r + 1} {name:6} cpu {cpu:7.3f} s  wall {wall:7.2f} s  "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    print("\n| case | " + " | ".join(f"{v} CPU s" for v in variants) + " | after/before |")
    print("|---|" + "---|" * (len(variants) + 1))
    for case in cases:
        cells = []
        for name in variants:
            xs = results[(case, name)]
            cells.append(f"{statistics.median(xs):.3f} ({min(xs):.3f}–{max(xs):.3f})")
        ratio = ""
        if "before" in variants:
            pairs = [a / b for a, b in zip(results[(case, "after")], results[(case, "before")], strict=True)]
            ratio = f"{statistics.median(pairs):.2f}"
        print(f"| {case} | " + " | ".join(cells) + f" | {ratio} |")
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
