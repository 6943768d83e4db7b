"""Pipeline speed and scaling: wall time per step and in total, CPU time and peak memory.

    uv run python benchmarks/bench_pipeline.py                                  # dev + prod 10k/100k/160k, both DBs
    uv run python benchmarks/bench_pipeline.py --cases prod-1m --dbs postgres   # the 1M-row run
    uv run python benchmarks/bench_pipeline.py --plot-only                       # redraw from the JSON

Each case runs ``socialscore run`` as a subprocess in a fresh temporary project (under
``/usr/bin/time`` for peak RSS and CPU seconds), reads the seconds per step from the state file
``.socialscore/state_{mode}.json``, then runs the same command again unchanged (every step cached)
and times that too. Cases: ``dev-shared`` (dev mode on the shared Jigsaw sample), ``dev-example``
(dev mode on the built-in generated example), ``prod-10k`` … ``prod-1m`` (prod mode on CSVs written by
``benchmarks/scale_data.py``). PostgreSQL runs use their own database (``bench_h6``, created and
emptied here) so they never touch another test's tables.

By default the code measured is the committed ``HEAD`` (``git archive`` into a temp dir, put first on
PYTHONPATH), so edits in the working tree neither change nor invalidate a measurement; ``--source
worktree`` measures the checkout as it is. Results are merged into ``docs/figures/pipeline_bench.json``
(keyed by case and database) and drawn to ``docs/figures/pipeline_scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from _shared import JIGSAW_SAMPLE, shared_path

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = JIGSAW_SAMPLE
STEPS = ("extract", "transform", "load", "features", "train", "evaluate", "predict")
SIZES = {"10k": 10_000, "100k": 100_000, "160k": 160_000, "1m": 1_000_000}
DEFAULT_CASES = ("dev-shared", "dev-example", "prod-10k", "prod-100k", "prod-160k")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_DB = "bench_h6"
JSON_OUT = ROOT / "docs" / "figures" / "pipeline_bench.json"
PLOT_OUT = ROOT / "docs" / "figures" / "pipeline_scaling.png"
TIME_FORMAT = "%e %U %S %M"  # wall s, user s, sys s, max RSS KiB


def tree_cpu_seconds() -> float:
    """CPU seconds (user + sys) of this process, its reaped children and its live descendants."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def child_main(cli_args: list[str]) -> None:
    """Run the CLI in this process, recording CPU seconds per step into $BENCH_STEP_CPU (JSON)."""
    from socialscore.pipeline.orchestrator import Orchestrator
    from socialscore.terminal.app import main as cli_main

    cpu: dict[str, float] = {}
    original = Orchestrator._run_step

    def counted(self, step, force):  # type: ignore[no-untyped-def]
        before = tree_cpu_seconds()
        try:
            return original(self, step, force)
        finally:
            cpu[step.name] = round(tree_cpu_seconds() - before, 2)
            Path(os.environ["BENCH_STEP_CPU"]).write_text(json.dumps(cpu))

    Orchestrator._run_step = counted  # type: ignore[method-assign]
    cli_main(cli_args)


def machine() -> dict[str, object]:
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "ram_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
    }


def snapshot(source: str, into: Path) -> tuple[Path, str]:
    """The ``src`` dir to measure and a label for it (a commit id, or ``worktree``)."""
    if source == "worktree":
        return ROOT / "src", "worktree"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", source],
                            check=True, capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src", commit


def dataset(case: str, data_dir: Path) -> Path | None:
    """The input CSV for a case (generated once and reused), or None for the built-in example."""
    if case == "dev-shared":
        if not SHARED_SAMPLE.exists():
            raise SystemExit(f"{SHARED_SAMPLE} is absent: drop the dev-shared case")
        return SHARED_SAMPLE
    if case == "dev-example":
        return None
    rows = SIZES[case.removeprefix("prod-")]
    path = data_dir / f"scale_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale_data.py"),
                        "--rows", str(rows), "--out", str(path)], check=True)
    return path


def reset_pg_database() -> str:
    """An empty ``bench_h6`` database on the local server; returns its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


class TreeMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants (worker processes included)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0, threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.wait(self.every):
            total = tree_rss(root)
            if total is None:
                return
            self.peak = max(self.peak, total)


def tree_rss(root) -> int | None:  # type: ignore[no-untyped-def]
    """RSS summed over ``root`` (a psutil.Process) and its descendants; None once ``root`` is gone."""
    import psutil

    total = 0
    try:
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return None
    return total


def address_space_limit(gib: float | None):  # type: ignore[no-untyped-def]
    """A preexec_fn capping each process's address space, so running out is a MemoryError in the
    run (reported) instead of the kernel's OOM killer picking a victim (maybe the database)."""
    if gib is None:
        return None

    def limit() -> None:
        import resource

        cap = int(gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return limit


def timed_run(cmd: list[str], env: dict[str, str], timeout: int, log: Path,
              max_memory_gib: float | None = None) -> dict[str, float]:
    """Run ``cmd`` under /usr/bin/time; wall/user/sys seconds, peak RSS, exit code, load average.

    ``peak_rss_mib`` is the largest single process (GNU time); ``peak_tree_rss_mib`` the largest sum
    over the run and its worker processes, sampled every 0.2 s.
    """
    stats = log.with_suffix(".time")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(["/usr/bin/time", "-f", TIME_FORMAT, "-o", str(stats), *cmd], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=address_space_limit(max_memory_gib))
        memory = TreeMemory(proc.pid)
        memory.start()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, not just /usr/bin/time
            proc.wait()
            code = -9
        memory.stop.set()
        memory.join()
    wall = time.perf_counter() - started
    result = {"exit": code, "wall_s": round(wall, 2), "load1_before": round(load_before, 2),
              "load1_after": round(os.getloadavg()[0], 2), "peak_tree_rss_mib": round(memory.peak / 2**20)}
    lines = stats.read_text().split("\n") if stats.exists() else []
    numbers = [ln for ln in lines if re.fullmatch(r"[\d.]+ [\d.]+ [\d.]+ \d+", ln.strip())]
    if numbers:
        e, u, s, m = numbers[-1].split()
        result.update(wall_s=float(e), cpu_s=round(float(u) + float(s), 2), peak_rss_mib=round(int(m) / 1024))
    return result


def read_state(project: Path, mode: str) -> dict[str, object]:
    state = json.loads((project / ".socialscore" / f"state_{mode}.json").read_text())["steps"]
    steps = {name: round(rec["seconds"], 2) for name, rec in state.items()}
    facts = state.get("transform", {}).get("facts", {})
    features = state.get("features", {}).get("facts", {})
    train = state.get("train", {}).get("facts", {})
    return {"steps": steps, "rows_in": facts.get("rows_in"), "rows_kept": facts.get("rows_kept"),
            "n_features": features.get("features"), "cv_auc_toxic": train.get("cv_auc_toxic")}


def pipeline_total(log_file: Path) -> float | None:
    found = re.findall(r"run finished in ([\d.]+)s", log_file.read_text()) if log_file.exists() else []
    return float(found[-1]) if found else None


def import_profile(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of the heaviest packages in a fully cached run (-X importtime)."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True)
    cumulative: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*([\w]+)$", line)
        if m:  # a package's own line: its cumulative time includes everything it pulled in
            name = m.group(2)
            cumulative[name] = max(cumulative.get(name, 0.0), int(m.group(1)) / 1e6)
    heavy = sorted(cumulative.items(), key=lambda kv: -kv[1])[:8]
    return {name: round(sec, 2) for name, sec in heavy}


def run_case(case: str, db: str, src: Path, data_dir: Path, timeout: int, profile_imports: bool,
             model_sets: list[str], bytecode_cache: bool = True,
             max_memory_gib: float | None = None) -> dict[str, object]:
    mode = "dev" if case.startswith("dev") else "prod"
    data = dataset(case, data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_", "SOCIALSCORE_"))}
    env["PYTHONPATH"] = str(src)
    cold_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    if bytecode_cache:  # like an installed package (the image compiles bytecode): .pyc kept in our cache
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(data_dir / "pycache")
    env["NLTK_DATA"] = os.environ.get("NLTK_DATA", str(shared_path("nltk_data")))
    if db == "postgres":
        env["DATABASE_URL"] = reset_pg_database()
    project = Path(tempfile.mkdtemp(prefix=f"bench-{case}-{db}-"))
    cmd = [sys.executable, "-m", "socialscore.terminal.app", "run", "--mode", mode, "--project-dir", str(project)]
    if data is not None:
        cmd += ["--data", str(data)]
    for item in model_sets:
        cmd += ["--set", item]
    print(f"… {case} on {db} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    result: dict[str, object] = {"case": case, "db": db, "mode": mode,
                                 "data": str(data) if data else "built-in example",
                                 "sets": model_sets}
    cpu_file = project / "bench_step_cpu.json"
    wrapped = [sys.executable, str(Path(__file__).resolve()), "--child", *cmd[3:]]
    first = timed_run(wrapped, {**env, "BENCH_STEP_CPU": str(cpu_file)}, timeout,
                      project / "bench_run1.out", max_memory_gib)
    result["run"] = first
    if (project / ".socialscore" / f"state_{mode}.json").exists():  # also the steps done before a failure
        result.update(read_state(project, mode))
    result["steps_cpu"] = json.loads(cpu_file.read_text()) if cpu_file.exists() else {}
    if first["exit"] != 0:
        what = "timed out" if first["exit"] == -9 else f"exit {first['exit']}"
        result["error"] = f"{what}: " + (project / "bench_run1.out").read_text()[-1500:]
        print(f"   failed ({what}); project kept at {project}", file=sys.stderr)
        return result
    result["pipeline_s"] = pipeline_total(project / "logs" / f"pipeline_{mode}.log")
    rerun = timed_run(cmd, env, timeout, project / "bench_run2.out")
    log_tail = (project / "logs" / f"pipeline_{mode}.log").read_text().split("run mode=")[-1]
    rerun["all_cached"] = all(f"step {s} cached" in log_tail for s in STEPS)
    result["rerun"] = rerun
    if profile_imports:
        result["rerun_imports_s"] = import_profile(cmd, env)
        if bytecode_cache:  # the same rerun when nothing is compiled yet (PYTHONDONTWRITEBYTECODE=1)
            result["rerun_no_pyc"] = timed_run(cmd, cold_env, timeout, project / "bench_run3.out")
    shutil.rmtree(project, ignore_errors=True)
    return result


def fmt(value: object, spec: str = ".1f") -> str:
    return "–" if value is None else format(value, spec)


def table(results: list[dict[str, object]], key: str = "steps") -> str:
    """Markdown: seconds per step (``steps`` = wall, ``steps_cpu`` = CPU) and the run's totals."""
    head = ("| case | db | rows in → kept | " + " | ".join(STEPS)
            + " | total wall s | total CPU s | peak RSS MiB (all processes) | load 1-min | rerun wall s |")
    lines = [head, "|" + "---|" * 3 + "---:|" * (len(STEPS) + 5)]
    for r in results:
        run = r.get("run", {})
        steps = r.get(key) or {}
        if "error" in r:
            what = "timed out" if run.get("exit") == -9 else f"failed (exit {run.get('exit')})"
            lines.append(f"| {r['case']} | {r['db']} | {what} | "
                         + " | ".join(fmt(steps.get(s)) for s in STEPS)
                         + f" | >{fmt(run.get('wall_s'))} | | | | |")
            continue
        rerun = r.get("rerun", {})
        cached = "" if rerun.get("all_cached") else " (not all cached)"
        lines.append(
            f"| {r['case']} | {r['db']} | {fmt(r.get('rows_in'), ',')} → {fmt(r.get('rows_kept'), ',')} | "
            + " | ".join(fmt(steps.get(s)) for s in STEPS)
            + f" | {fmt(run.get('wall_s'))} | {fmt(run.get('cpu_s'))} | {fmt(run.get('peak_rss_mib'), ',')}"
            + f" ({fmt(run.get('peak_tree_rss_mib'), ',')})"
            + f" | {fmt(run.get('load1_before'))}–{fmt(run.get('load1_after'))}"
            + f" | {fmt(rerun.get('wall_s'), '.2f')}{cached} |"
        )
    return "\n".join(lines)


def report(results: list[dict[str, object]]) -> str:
    parts = ["Wall seconds per step:\n", table(results, "steps"),
             "\nCPU seconds per step (user + sys, this process and its workers):\n",
             table(results, "steps_cpu")]
    reruns = [r for r in results if "rerun" in r]
    if reruns:
        parts.append("\nUnchanged rerun: " + "; ".join(
            f"{r['case']}/{r['db']} {r['rerun']['wall_s']:.2f} s wall, {r['rerun'].get('cpu_s', 0):.2f} s CPU"
            for r in reruns))
    for r in results:
        if "rerun_no_pyc" in r:
            parts.append(f"Same rerun without .pyc files ({r['case']}/{r['db']}): "
                         f"{r['rerun_no_pyc']['wall_s']:.2f} s wall, {r['rerun_no_pyc'].get('cpu_s', 0):.2f} s CPU")
    imports = next((r["rerun_imports_s"] for r in results if "rerun_imports_s" in r), None)
    if imports:
        parts.append("Cached rerun, cumulative import seconds: "
                     + ", ".join(f"{k} {v}" for k, v in imports.items()))
    return "\n".join(parts)


def plot(results: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prod = [r for r in results if r["mode"] == "prod" and "error" not in r and r.get("rows_in")]
    if not prod:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    step_db = max(("sqlite", "postgres"), key=lambda d: sum(r["db"] == d for r in prod))  # the most sizes
    for db, marker in (("sqlite", "o"), ("postgres", "s")):
        rows = sorted((r for r in prod if r["db"] == db), key=lambda r: r["rows_in"])
        if not rows:
            continue
        x = [r["rows_in"] for r in rows]
        axes[0].plot(x, [r["run"]["wall_s"] for r in rows], marker=marker, lw=2, label=f"total wall ({db})")
        axes[0].plot(x, [r["run"]["cpu_s"] for r in rows], marker=marker, lw=2, label=f"total CPU ({db})")
        if db == step_db:
            for step in STEPS:
                axes[0].plot(x, [(r.get("steps_cpu") or r["steps"]).get(step, 0) for r in rows],
                             marker=marker, lw=1, ls="--", label=f"{step} CPU ({db})")
        axes[1].plot(x, [r["run"].get("peak_tree_rss_mib", r["run"]["peak_rss_mib"]) / 1024 for r in rows],
                     marker=marker, label=f"{db} (all processes)")
    xs = sorted({r["rows_in"] for r in prod})
    base = min(prod, key=lambda r: r["rows_in"])
    axes[0].plot(xs, [base["run"]["cpu_s"] * x / base["rows_in"] for x in xs], color="grey", lw=1,
                 ls=":", label="linear (total CPU of the smallest)")
    axes[0].axhline(120, color="red", lw=0.8, ls=":")
    axes[0].text(xs[0], 125, "120 s target (160k)", color="red", fontsize=8)
    axes[0].set(xscale="log", yscale="log", xlabel="input rows", ylabel="seconds",
                title="prod run: total, and CPU per step (log-log)")
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].axhline(8, color="red", lw=0.8, ls=":")
    axes[1].set(xscale="log", xlabel="input rows", ylabel="peak RSS (GiB)", title="peak memory (all processes)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def merge(path: Path, new: list[dict[str, object]], meta: dict[str, object]) -> dict[str, object]:
    doc = json.loads(path.read_text()) if path.exists() else {"results": []}
    keep = {(r["case"], r["db"]): r for r in doc["results"]}
    for r in new:
        keep[(r["case"], r["db"])] = r
    order = {c: i for i, c in enumerate((*DEFAULT_CASES, "prod-1m"))}
    doc["results"] = sorted(keep.values(), key=lambda r: (order.get(r["case"], 99), r["db"]))
    doc.setdefault("runs", []).append(meta)
    return doc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES),
                        help="comma list of dev-shared, dev-example, prod-10k, prod-100k, prod-160k, prod-1m")
    parser.add_argument("--dbs", default="sqlite,postgres", help="comma list of sqlite, postgres")
    parser.add_argument("--source", default="HEAD", help="a git revision to measure, or 'worktree'")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "socialscore-bench-data",
                        help="where generated CSVs are kept between runs")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per pipeline run")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        help="config override passed to every run, e.g. model.type=logistic_regression")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile every module on every run (as with PYTHONDONTWRITEBYTECODE=1 and no .pyc)")
    parser.add_argument("--no-import-profile", action="store_true",
                        help="skip the -X importtime profile of the cached rerun")
    parser.add_argument("--max-memory-gib", type=float,
                        help="cap each process's address space (RLIMIT_AS): out of memory fails the run cleanly")
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    parser.add_argument("--plot", type=Path, default=PLOT_OUT)
    parser.add_argument("--plot-only", action="store_true", help="redraw the table and plot from --json")
    args = parser.parse_args(argv)

    if args.plot_only:
        results = json.loads(args.json.read_text())["results"]
        print(report(results))
        plot(results, args.plot)
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    dbs = [d.strip() for d in args.dbs.split(",") if d.strip()]
    unknown = [c for c in cases if c not in (*DEFAULT_CASES, "prod-1m")] + [
        d for d in dbs if d not in ("sqlite", "postgres")]
    if unknown:
        parser.error(f"unknown case/db: {', '.join(unknown)}")
    if not Path("/usr/bin/time").exists():
        parser.error("needs GNU time at /usr/bin/time (apt-get install -y time)")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-src-") as tmp:
        src, label = snapshot(args.source, Path(tmp))
        meta = {"date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "code": label,
                **machine(), "cases": cases, "dbs": dbs, "sets": args.sets}
        print(f"# Pipeline benchmark — {meta['date']}, code {label}, {meta['cpus']} CPUs, "
              f"{meta['ram_gib']} GiB RAM, load {os.getloadavg()[0]:.1f}\n")
        results = []
        for i, case in enumerate(cases):
            for db in dbs:
                r = run_case(case, db, src, args.data_dir, args.timeout,
                             profile_imports=not args.no_import_profile and i == 0 and db == dbs[0],
                             model_sets=args.sets, bytecode_cache=not args.no_bytecode_cache,
                             max_memory_gib=args.max_memory_gib)
                r["code"], r["date"] = label, meta["date"]
                results.append(r)
                doc = merge(args.json, [r], meta if r is results[0] else {})
                doc["runs"] = [m for m in doc["runs"] if m]
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(doc, indent=1) + "\n")
    print(report(results))
    plot(json.loads(args.json.read_text())["results"], args.plot)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
