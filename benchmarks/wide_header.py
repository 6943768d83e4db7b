"""How fast and in how little memory a hostile wide file fails: a 12 MB header of a million columns.

    uv run python benchmarks/wide_header.py

Runs extract on the generated file in a fresh process and prints the error, the seconds spent in
extract (imports excluded) and the process's peak RSS (imports of pandas etc. included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from socialscore.config import DataConfig
from socialscore.errors import DataError
from socialscore.steps.extract import extract
import socialscore.storage.datasets  # extract imports pandas and the reader lazily: import them before timing
path = Path(sys.argv[1])
start = time.perf_counter()
try:
    extract([path], DataConfig())
    error = None
except DataError as exc:
    error = str(exc)
seconds = time.perf_counter() - start
print(json.dumps({"error": error, "seconds": seconds,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million_columns.csv"
        path.write_bytes((",".join(f"col_{i:07d}" for i in range(1_000_000)) + "\n").encode())
        size = path.stat().st_size
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    print(f"file: {size / 2**20:.1f} MiB, 1,000,000 columns")
    print(f"error: {result['error']}")
    print(f"extract: {result['seconds']:.2f} s; peak RSS of the process: {result['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
