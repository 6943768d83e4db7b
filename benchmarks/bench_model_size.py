"""A stored model version's arrays on disk: ``np.savez`` (before) against ``np.savez_compressed`` (now).

    uv run python benchmarks/bench_model_size.py MODELS_DIR/registry/VERSION [VERSION_DIR ...]

For each version directory, the arrays of its ``arrays.npz`` are written both ways into a temporary
directory (the version itself is only read) and read back, alternated ``--repeat`` times; printed: MB
of the whole version (pipeline.json + vocab.json + arrays) each way, and the best CPU seconds
(user+sys of this process) to write and to read the arrays.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

MB = 1024 * 1024


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, numpy {np.__version__}, load {os.getloadavg()[0]:.1f}")
    print("| version | arrays | MB before (savez) | MB now (savez_compressed) | write CPU s before / now | read CPU s before / now |")
    print("|---|---|---|---|---|---|")
    for version in args.versions:
        with np.load(version / "arrays.npz", allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        others = sum((version / n).stat().st_size for n in ("pipeline.json", "vocab.json"))
        with tempfile.TemporaryDirectory() as tmp:
            paths = {"before": Path(tmp) / "plain.npz", "now": Path(tmp) / "compressed.npz"}
            writers = {"before": np.savez, "now": np.savez_compressed}
            write = {k: float("inf") for k in paths}
            read = {k: float("inf") for k in paths}
            for _ in range(args.repeat):
                for key, path in paths.items():  # alternated: a change in the machine's load hits both alike
                    start = cpu()
                    writers[key](path, **arrays)
                    write[key] = min(write[key], cpu() - start)
                    start = cpu()
                    dict(np.load(path, allow_pickle=False))
                    read[key] = min(read[key], cpu() - start)
            size = {k: (p.stat().st_size + others) / MB for k, p in paths.items()}
            reread = dict(np.load(paths["now"], allow_pickle=False))
            assert all(np.array_equal(reread[n], arrays[n]) for n in arrays), "compressed arrays differ"
        print(f"| {version.name} | {len(arrays)} | {size['before']:.1f} | {size['now']:.1f} | "
              f"{write['before']:.2f} / {write['now']:.2f} | {read['before']:.2f} / {read['now']:.2f} |")


if __name__ == "__main__":
    main()
