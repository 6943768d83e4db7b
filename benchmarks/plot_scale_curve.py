"""Plot the cost curve (wall, CPU, peak RSS over all processes against rows) from bench_scale_paths logs.

    uv run python benchmarks/plot_scale_curve.py --out docs/figures/scale_cost_curve.png \
        100000=/tmp/scale/bench_100k.log 1000000=/tmp/scale/bench_1m.log

Each log holds ``HH:MM UTC <variant> {json}`` lines as ``bench_scale_paths.py`` prints them; a run that
did not finish (exit != 0) is drawn as an open marker at the point it reached.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

LINE = re.compile(r"^\d\d:\d\d UTC (.+?) (\{.*\})$")


def read_results(pairs: list[str]) -> dict[str, list[tuple[int, dict]]]:
    by_variant: dict[str, list[tuple[int, dict]]] = {}
    for pair in pairs:
        rows, _, path = pair.partition("=")
        for line in Path(path).read_text().splitlines():
            match = LINE.match(line.strip())
            if match:
                by_variant.setdefault(match.group(1), []).append((int(rows), json.loads(match.group(2))))
    return {name: sorted(points, key=lambda p: p[0]) for name, points in by_variant.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="ROWS=bench log")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = read_results(args.runs)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for name, points in results.items():
        for ax, key, scale in zip(axes, ("wall_s", "cpu_s", "peak_tree_rss_mib"), (1, 1, 1 / 1024), strict=True):
            xs = [n for n, r in points if r.get(key) is not None]
            ys = [r[key] * scale for n, r in points if r.get(key) is not None]
            done = [r.get("exit") == 0 for n, r in points if r.get(key) is not None]
            (line,) = ax.plot(xs, ys, "-", label=name)
            for x, y, ok in zip(xs, ys, done, strict=True):
                ax.plot([x], [y], "o", color=line.get_color(), fillstyle="full" if ok else "none")
    for ax, title in zip(axes, ("wall seconds", "CPU seconds (all processes)", "peak GiB, RSS summed over processes"),
                         strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("rows in the input CSV")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[2].axhline(3, color="grey", linestyle=":", label="3 GB target")
    axes[0].axhline(400, color="grey", linestyle=":")
    axes[2].legend(fontsize=8)
    fig.suptitle("socialscore run --mode prod: cost against size (open marker: the run did not finish)")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
