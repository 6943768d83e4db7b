"""Load-test social-score-api on loopback with wrk: req/s and p50/p95/p99 for single and batch scoring,
at 1 and 8 concurrent clients, with 1 and 2 uvicorn workers. Bounded in time (--duration per run).

    uv run python benchmarks/bench_api.py --models-dir <project>/models [--duration 15] [--json out.json]

Without --models-dir a tiny fixture bundle (tests/api/tiny_bundle.py) is built and measured instead.
Each cell also reports the server's own CPU (user+sys of uvicorn and its workers, psutil, read before and
after the cell) per request and per text: on a loaded machine that figure still means something when
the latencies do not.
Texts come from the Jigsaw sample in ../shared when present (else generated); they are written only
to a temporary wrk script. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from _shared import JIGSAW_SAMPLE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = JIGSAW_SAMPLE

LUA = """
local bodies = {}
%(bodies)s
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench-key"}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%f %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def load_texts(n: int = 2000, seed: int = 1) -> tuple[list[str], str]:
    if SAMPLE.exists():
        csv.field_size_limit(10_000_000)
        with SAMPLE.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            column = next(c for c in reader.fieldnames or [] if "text" in c.lower() or "comment" in c.lower())
            texts = [row[column][:10_000] for _, row in zip(range(n), reader) if row[column].strip()]
        return texts, f"first {len(texts)} comments of {SAMPLE.name}"
    rng = random.Random(seed)
    words = "you are such a great idiot thanks for the edit this article needs sources stupid".split()
    return [" ".join(rng.choices(words, k=rng.randint(5, 80))) for _ in range(n)], "generated texts"


def lua_script(path: str, bodies: list[str]) -> str:
    lines = "\n".join(f"bodies[{i + 1}] = {json.dumps(b)}" for i, b in enumerate(bodies))
    return LUA % {"bodies": lines, "path": path}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(models_dir: Path, workers: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSCORE_")}
    env["SOCIALSCORE_API_KEYS"] = "bench-key"
    process = subprocess.Popen(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--port", str(port), "--workers", str(workers),
         "--models-dir", str(models_dir)],
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a loaded machine (or an empty numba cache) starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server did not start: {log_path.read_text()[-1500:]}")


def server_cpu(pid: int) -> float:
    """user+sys seconds of the server and its live workers."""
    process = psutil.Process(pid)
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_wrk(url: str, script: Path, clients: int, duration: int) -> dict:
    command = ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{duration}s", "--timeout", "60s",
               "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    requests, seconds, p50, p95, p99, errors = line.split()[1:]
    return {"requests": int(requests), "rps": int(requests) / float(seconds), "p50_ms": float(p50),
            "p95_ms": float(p95), "p99_ms": float(p99), "errors": int(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    models_dir = args.models_dir
    if models_dir is None:
        sys.path.insert(0, str(ROOT / "tests" / "api"))
        from tiny_bundle import build_tiny_bundle

        models_dir = build_tiny_bundle(work / "models")
    manifest = json.loads((models_dir / "bundle.json").read_text())
    texts, source = load_texts()
    single = work / "single.lua"
    single.write_text(lua_script("/v1/score", [json.dumps({"text": t}) for t in texts[:500]]))
    batch = work / "batch.lua"
    batches = [texts[i: i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    batch.write_text(lua_script("/v1/score/batch", [json.dumps({"texts": b}) for b in batches
                                                     if len(b) == args.batch_size]))
    print(f"model {manifest['model_version']} from {models_dir}; texts: {source}; "
          f"{args.duration}s per run; batch of {args.batch_size}", flush=True)

    results = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            process, url = start_server(models_dir, workers, work / f"server-{workers}.log")
            try:
                run_wrk(url, single, 2, 3)  # warm-up
                for kind, script in (("single", single), ("batch", batch)):
                    for clients in [int(c) for c in args.clients.split(",")]:
                        cpu = server_cpu(process.pid)
                        row = {"workers": workers, "kind": kind, "clients": clients,
                               **run_wrk(url, script, clients, args.duration)}
                        cpu = server_cpu(process.pid) - cpu
                        per_request = args.batch_size if kind == "batch" else 1
                        row["texts_per_s"] = row["rps"] * per_request
                        row["server_cpu_s"] = cpu
                        row["cpu_us_per_text"] = 1e6 * cpu / max(row["requests"] * per_request, 1)
                        row["load"] = os.getloadavg()[0]
                        results.append(row)
                        print(f"workers={workers} {kind:6} clients={clients}: {row['rps']:8.1f} req/s "
                              f"{row['texts_per_s']:9.0f} texts/s  p50 {row['p50_ms']:7.2f} ms  "
                              f"p95 {row['p95_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  "
                              f"errors {row['errors']}  server CPU {cpu:.1f} s = "
                              f"{row['cpu_us_per_text']:.0f} µs/text  load {row['load']:.1f}", flush=True)
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"model_version": manifest["model_version"], "texts": source,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
