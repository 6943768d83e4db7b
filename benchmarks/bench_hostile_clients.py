"""Hostile clients against ``socialscore serve`` on loopback, the big versions of tests/api/test_api_connections.py
and test_api_hostile.py: a slowloris, an idle-connection flood, and explanations of long texts while a
plain score is sent. Every loop is bounded; nothing leaves 127.0.0.1.

    uv run python benchmarks/bench_hostile_clients.py [--slowloris 200] [--idle 5000] [--json out.json]

To measure the code before a change, point PYTHONPATH at an export of its ``src`` (the server inherits it).
The bundle is tests/api/tiny_bundle.py's linear one (it can explain). The server runs with its defaults
(read timeout 10 s, 1,000 connections per worker, 2 explanations at once of at most 2,000 characters).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "api"))
from sockets import HALF_HEAD, closed_by_server, free_port, open_fds, trickle  # noqa: E402
KEY = "bench-hostile-key-0123456789"


def start_server(models_dir: Path, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSCORE_")}
    env["SOCIALSCORE_API_KEYS"] = KEY
    process = subprocess.Popen(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--port", str(port), "--models-dir", str(models_dir)],
        stdout=log_path.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=models_dir.parent,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process, port
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server did not start: {log_path.read_text()[-1500:]}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slowloris(port: int, n: int, bound: float) -> dict:
    """n requests whose headers trickle in (one line a second): how many are open after 40 s, when all closed."""
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        with contextlib.suppress(OSError):
            sock.sendall(HALF_HEAD)
        socks.append(sock)
    started = time.monotonic()
    open_, open_at_40, all_closed_after = list(socks), None, None
    while open_ and time.monotonic() - started < bound:
        time.sleep(1.0)
        open_ = trickle(open_)
        if open_at_40 is None and time.monotonic() - started >= 40:
            open_at_40 = len(open_)
    if not open_:
        all_closed_after = round(time.monotonic() - started, 1)
    for sock in socks:
        sock.close()
    return {"requests": n, "open_after_40s": open_at_40 if open_at_40 is not None else 0,
            "open_at_end": len(open_), "all_closed_after_s": all_closed_after, "bound_s": bound}


def idle_flood(pid: int, port: int, n: int) -> dict:
    """n idle connections (never a byte sent): the server's descriptors, and whether /health still answers."""
    before = open_fds(pid)
    socks, refused_connect, peak = [], 0, before
    for i in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            refused_connect += 1
        if i % 250 == 0:
            peak = max(peak, open_fds(pid))
    time.sleep(1.0)
    peak = max(peak, open_fds(pid))
    closed_at_once = sum(closed_by_server(s) for s in socks)
    started = time.monotonic()
    health = None
    while time.monotonic() - started < 30 and health is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                health = round(time.monotonic() - started, 2)
        time.sleep(0.2)
    for sock in socks:
        sock.close()
    return {"connections": n, "server_fds_before": before, "server_fds_peak": peak,
            "closed_by_server_at_once": closed_at_once, "connect_failed": refused_connect,
            "health_answered_after_s": health}


def explain_flood(port: int, n: int, chars: int) -> dict:
    """n concurrent explain: true requests of ``chars`` characters, and a plain score sent one second in."""
    words = ["you", "are", "such", "a", "stupid", "clown", "and", "an", "idiot", "thanks", "for", "the", "edit",
             "this", "article", "needs", "sources"]
    text = " ".join(words[i % len(words)] for i in range(chars))[:chars]
    headers = {"X-API-Key": KEY}
    with httpx.Client(timeout=300, headers=headers) as client, ThreadPoolExecutor(n) as pool:
        started = time.monotonic()
        futures = [pool.submit(client.post, f"http://127.0.0.1:{port}/v1/score", json={"text": text, "explain": True})
                   for _ in range(n)]
        time.sleep(1.0)
        t = time.monotonic()
        plain = client.post(f"http://127.0.0.1:{port}/v1/score", json={"text": "you are a genius"})
        plain_s = time.monotonic() - t
        statuses = [f.result().status_code for f in futures]
        total = time.monotonic() - started
    return {"explain_requests": n, "chars": chars, "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "plain_score_status": plain.status_code, "plain_score_s": round(plain_s, 3),
            "all_explanations_done_s": round(total, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slowloris", type=int, default=200)
    parser.add_argument("--slowloris-bound", type=float, default=45.0, help="seconds before giving up")
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--explain", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from tiny_bundle import build_linear_bundle

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                     "code": os.environ.get("PYTHONPATH") or "this checkout"}
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        models = build_linear_bundle(Path(tmp) / "project" / "models")
        process, port = start_server(models, Path(tmp) / "server.log")
        try:
            cpu0 = cpu_seconds(process.pid)
            results["explain_2000"] = explain_flood(port, args.explain, 2000)
            results["explain_10000"] = explain_flood(port, args.explain, 10_000)
            results["slowloris"] = slowloris(port, args.slowloris, args.slowloris_bound)
            results["idle_flood"] = idle_flood(process.pid, port, args.idle)
            results["server_cpu_s"] = round(cpu_seconds(process.pid) - cpu0, 1)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
