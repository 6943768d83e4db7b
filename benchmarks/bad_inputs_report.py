"""Run the broken-input corpus (tests/data/bad/) through extract + transform and print the figures.

    uv run python benchmarks/bad_inputs_report.py            # summary + one line per input (markdown)

Exit code 1 when an input does not give its expected outcome or a row is lost.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "bad" / "corpus.py"


def load_corpus():
    spec = importlib.util.spec_from_file_location("bad_corpus", CORPUS)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bad_corpus"] = module
    spec.loader.exec_module(module)
    return module


def escape(text: str) -> str:
    """A markdown table cell: pipes escaped."""
    return text.replace("|", "\\|")


def main() -> int:
    corpus = load_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        outcomes = [corpus.run_case(case, workdir) for case in corpus.load_cases(workdir)]
    figures = corpus.summary(outcomes)
    print(
        "| inputs tried | clear errors | inputs with rows | rows in | kept | rejected | merged | rows lost |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {figures['inputs tried']} | {figures['clear errors']} | {figures['inputs with rows']} "
        f"| {figures['rows in']:,} | {figures['rows kept']:,} | {figures['rows rejected']:,} "
        f"| {figures['duplicates merged']} | {figures['rows lost']} |"
    )
    rejected, merged = corpus.reasons_count(outcomes)
    print()
    print("rejected by reason: " + ", ".join(f"{k} {v:,}" for k, v in sorted(rejected.items())))
    print("merged by reason: " + ", ".join(f"{k} {v:,}" for k, v in merged.items()))
    print()
    table = corpus.frame(outcomes)
    print("| input | what | outcome | kept | rejected | merged | lost | as expected |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for row in table.itertuples(index=False):
        outcome = f"error: {escape(row.error[:90])}…" if row.error else row.outcome
        print(
            f"| {row.input} | {escape(row.what)} | {outcome} | {row.kept} | {row.rejected} | {row.merged} "
            f"| {row.lost} | {'yes' if row[-1] else 'NO'} |"
        )
    for outcome in outcomes:
        for problem in corpus.problems(outcome):
            print(f"MISMATCH {outcome.case.name}: {problem}", file=sys.stderr)
    return 1 if figures["mismatches"] or figures["rows lost"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
