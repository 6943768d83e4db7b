"""Soak social-score-api: N concurrent clients on loopback for a fixed time; count errors and sample
the server's memory (RSS of the server and its workers) every few seconds; say whether it stayed flat.

    uv run python benchmarks/soak_api.py --models-dir <project>/models [--minutes 5] [--clients 8]

Without --models-dir a tiny fixture bundle (tests/api/tiny_bundle.py) is used. Mixes single scores
(90 %) and small batches (10 %). "Flat" = the median RSS of the last fifth of the run is within
--tolerance (default 10 %) of the median of the second fifth (the first fifth is warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import ROOT, free_port, load_texts  # noqa: E402


def rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its children, in MB (from /proc)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


async def client_loop(http: httpx.AsyncClient, texts: list[str], stop: float, counts: dict, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop:
        try:
            if rng.random() < 0.1:
                response = await http.post("/v1/score/batch", json={"texts": rng.sample(texts, 20)})
            else:
                response = await http.post("/v1/score", json={"text": rng.choice(texts)})
            counts["requests"] += 1
            if response.status_code != 200:
                counts["errors"] += 1
                counts.setdefault(f"status_{response.status_code}", 0)
                counts[f"status_{response.status_code}"] += 1
        except httpx.HTTPError as exc:
            counts["requests"] += 1
            counts["errors"] += 1
            counts.setdefault(exc.__class__.__name__, 0)
            counts[exc.__class__.__name__] += 1


async def sampler(pid: int, stop: float, every: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < stop:
        samples.append((time.monotonic() - start, rss_mb(pid)))
        await asyncio.sleep(every)


async def soak(url: str, pid: int, texts: list[str], seconds: float, clients: int, every: float) -> tuple:
    counts = {"requests": 0, "errors": 0}
    samples: list[tuple[float, float]] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": "Bearer soak-key"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as http:
        await asyncio.gather(sampler(pid, stop, every, samples),
                             *(client_loop(http, texts, stop, counts, i) for i in range(clients)))
    return counts, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--every", type=float, default=5, help="seconds between memory samples")
    parser.add_argument("--tolerance", type=float, default=0.10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="soak-api-"))
    models_dir = args.models_dir
    if models_dir is None:
        sys.path.insert(0, str(ROOT / "tests" / "api"))
        from tiny_bundle import build_tiny_bundle

        models_dir = build_tiny_bundle(work / "models")
    texts, source = load_texts(500)
    texts = [t[:10_000] for t in texts]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSCORE_")}
    env["SOCIALSCORE_API_KEYS"] = "soak-key"
    log = work / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "socialscore.terminal.app", "serve", "--port", str(port), "--workers", str(args.workers),
         "--models-dir", str(models_dir)], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"server not ready: {log.read_text()[-1500:]}")
        print(f"soak: {args.minutes} min, {args.clients} clients, {args.workers} worker(s), texts: {source}",
              flush=True)
        counts, samples = asyncio.run(soak(url, server.pid, texts, 60 * args.minutes, args.clients, args.every))
    finally:
        server.terminate()
        server.wait(timeout=30)
    fifth = max(1, len(samples) // 5)
    early = statistics.median(m for _, m in samples[fifth: 2 * fifth])
    late = statistics.median(m for _, m in samples[-fifth:])
    growth = (late - early) / early
    flat = abs(growth) <= args.tolerance
    print(f"requests {counts['requests']}  errors {counts['errors']}  "
          f"({', '.join(f'{k}={v}' for k, v in counts.items() if k not in ('requests', 'errors')) or 'none'})")
    print(f"throughput {counts['requests'] / (60 * args.minutes):.1f} req/s")
    print("rss MB: " + " ".join(f"{m:.0f}" for _, m in samples))
    print(f"memory: {early:.1f} MB after warm-up → {late:.1f} MB at the end ({100 * growth:+.1f} %): "
          f"{'FLAT' if flat else 'GROWING'}")
    sys.exit(0 if flat and counts["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
