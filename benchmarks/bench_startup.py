"""CPU seconds (user+sys of the server process) and wall seconds until ``/ready`` answers 200, side by side,
the variants alternated round by round:

- socialscore serve, empty numba cache: a fresh ``NUMBA_CACHE_DIR``, no shipped cache (what a pod had);
- socialscore serve, shipped cache: a fresh ``NUMBA_CACHE_DIR`` + ``SOCIALSCORE_NUMBA_SHIPPED_CACHE``
  warmed once by ``socialscore warm-cache`` (what the image ships);
- minimal FastAPI + scikit-learn (benchmarks/minimal_sklearn_service.py): the yardstick;
- with ``--before-src DIR``: the shipped-cache (and empty-cache) variants run from another source tree
  (e.g. the previous commit's ``src``, from ``git archive``) for a before/after.

    uv run python benchmarks/bench_startup.py [--models-dir PROJECT/models] [--rounds 5] [--before-src /tmp/old/src]

Without --models-dir a default-shaped bundle (hashing featurizer, nb_logistic weights) is exported.
One worker each; the server's stdout/stderr go to a log file per variant in the scratch directory.
The virtualenv and ``src`` are byte-compiled first (as the image's are; idempotent), and the servers run
with ``PYTHONDONTWRITEBYTECODE=1``, so no variant pays for compiling Python source.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """user + sys of the process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / TICK


def time_to_ready(command: list[str], env: dict[str, str], port: int, log: Path, timeout: float) -> tuple[float, float]:
    """(CPU s, wall s) from start until GET /ready answers 200; the server is stopped afterwards."""
    started = time.perf_counter()
    with log.open("a") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as response:
                    if response.status == 200:
                        return cpu_seconds(process.pid), time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"not ready within {timeout} s; see {log}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def default_bundle(target: Path) -> Path:
    from socialscore.api.numba_cache import warm_pipeline
    from socialscore.registry.serving import export_pipeline

    export_pipeline(warm_pipeline(), target, {"model_version": "warm-1", "alias": "production"}, compat=False)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, help="a served bundle (default: a default-shaped one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before-src", type=Path, help="another source tree's src/ to run the same variants from")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--no-empty", action="store_true", help="skip the empty-numba-cache variant (~4-25 CPU s a round)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    models = args.models_dir.resolve() if args.models_dir else default_bundle(scratch / "models")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALSCORE_", "NUMBA_"))}
    base_env |= {"SOCIALSCORE_API_KEYS": "bench-key", "SOCIALSCORE_ENV": "development", "PYTHONDONTWRITEBYTECODE": "1"}
    sources = [ROOT / "src", *([args.before_src.resolve()] if args.before_src else [])]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", sysconfig.get_paths()["purelib"],
                    *map(str, sources)], check=True, stdout=subprocess.DEVNULL)

    def warm_cache(target: Path, extra: dict[str, str]) -> Path:
        subprocess.run([sys.executable, "-m", "socialscore", "warm-cache", str(target)], check=True,
                       env=base_env | {"NUMBA_CACHE_DIR": str(target)} | extra, stdout=subprocess.DEVNULL)
        return target

    shipped = warm_cache(scratch / "shipped-numba-cache", {})
    baseline_model = scratch / "minimal.joblib"
    minimal = ROOT / "benchmarks" / "minimal_sklearn_service.py"
    subprocess.run([sys.executable, str(minimal), "--train", str(baseline_model)], check=True, env=base_env)

    def ours(extra: dict[str, str]):
        def command(port: int, run: Path) -> tuple[list[str], dict[str, str]]:
            env = base_env | {"NUMBA_CACHE_DIR": str(run / "numba")} | extra
            return ([sys.executable, "-m", "socialscore", "serve", "--port", str(port), "--workers", "1",
                     "--models-dir", str(models)], env)
        return command

    def yardstick(port: int, run: Path) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, str(minimal), "--serve", str(baseline_model), "--port", str(port)], base_env

    variants = {
        "socialscore serve, empty numba cache": ours({}),
        "socialscore serve, shipped cache": ours({"SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(shipped)}),
        "minimal FastAPI + scikit-learn": yardstick,
    }
    if args.no_empty:
        del variants["socialscore serve, empty numba cache"]
    if args.before_src:  # the other tree with its own shipped cache (numba keys a cache by source file)
        before = {"PYTHONPATH": str(args.before_src.resolve())}
        before_shipped = warm_cache(scratch / "before-shipped-numba-cache", before)
        variants["before (--before-src), shipped cache"] = ours(before | {"SOCIALSCORE_NUMBA_SHIPPED_CACHE": str(before_shipped)})
        if not args.no_empty:
            variants["before (--before-src), empty numba cache"] = ours(before)

    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for round_ in range(args.rounds):
        for name, make in variants.items():
            run = scratch / f"run-{round_}-{len(results[name])}-{abs(hash(name)) % 10_000}"
            run.mkdir()
            port = free_port()
            command, env = make(port, run)
            results[name].append(time_to_ready(command, env, port, scratch / f"{name.split(',')[0].replace(' ', '_')}.log",
                                               args.timeout))
            cpu, wall = results[name][-1]
            print(f"round {round_ + 1}: {name}: {cpu:.2f} CPU s, {wall:.2f} s wall", flush=True)

    print(f"\nCPU and wall seconds to /ready, median of {args.rounds} alternated rounds (min–max); "
          f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs; bundle {models}")
    yard = statistics.median(c for c, _ in results["minimal FastAPI + scikit-learn"])
    for name, runs in results.items():
        cpus, walls = [c for c, _ in runs], [w for _, w in runs]
        print(f"  {name:45s} CPU {statistics.median(cpus):6.2f} s ({min(cpus):.2f}–{max(cpus):.2f})  "
              f"wall {statistics.median(walls):6.2f} s ({min(walls):.2f}–{max(walls):.2f})  "
              f"CPU vs minimal service ×{statistics.median(cpus) / yard:.2f}")


if __name__ == "__main__":
    main()
