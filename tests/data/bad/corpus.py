"""The broken-input corpus: load expected.yaml, build the generated files, run extract + transform.

Shared by tests/test_bad_inputs.py and benchmarks/bad_inputs_report.py (imported by file path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from socialscore.config import DataConfig, TransformConfig
from socialscore.errors import DataError
from socialscore.pipeline.artifacts import read_file_artifact, write_file_artifact
from socialscore.steps.extract import extract
from socialscore.steps.transform import transform
from socialscore.storage.csvsafe import FORMULA_PREFIXES

HERE = Path(__file__).resolve().parent
HEADER = "id,comment_text,toxic\n"


def _wide_row() -> bytes:
    wide = ",".join(["2", "a row with far too many fields", *("1" * 99_998)])
    return (HEADER + "1,fine,0\n" + wide + "\n3,also fine,1\n").encode()


def _huge_comment() -> bytes:
    return (HEADER + "1,short,0\n2," + "x" * 1_000_000 + ",1\n").encode()


def _large_with_bad_rows() -> bytes:
    lines = [
        f"{i},comment number {i} with {'an extra,field' if i % 100 == 0 else 'no extra field'},{i % 7 == 0:d}"
        for i in range(1, 20_001)
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def _csv(rows: list[str], header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


def _conflicts_allowed() -> bytes:
    rows = [f"x{n // 2},text {n},0" for n in range(4)] + [f"y{n},other {n},1" for n in range(16)]
    return _csv(rows)


def _excel_ids() -> bytes:
    ids = ["1.23457E+17", "1.23457E+17", "9.87654E+17", "4.56789E+17", "3.14159E+17"]
    return _csv([f"{ids[i % 5]},distinct comment number {i},{i % 2}" for i in range(500)])


def _frame_bytes(kind: str) -> bytes:
    import io

    frame = pd.DataFrame({"id": ["1", "2"], "comment_text": ["first comment", "second"], "toxic": [0, 1]})
    buffer = io.BytesIO()
    if kind == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        import gzip

        buffer.write(gzip.compress(frame.to_csv(index=False).encode()))
    return buffer.getvalue()


def _zipped(inner: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(inner, HEADER + "1,hello,0\n")
    return buffer.getvalue()


GENERATORS = {
    "wide_row": _wide_row,
    "huge_comment": _huge_comment,
    "large_with_bad_rows": _large_with_bad_rows,
    "missing": None,  # the file is deliberately not created
    "conflicts_allowed": _conflicts_allowed,
    "excel_ids": _excel_ids,
    "true_duplicates": lambda: _csv(["1,hello there,0", "1, hello  there ,1", "2,hello there,0", "3,another,1"]),
    "whitespace_ids": lambda: _csv(["7,first text,0", " 7 ,another text,1"]),
    "phone_variants": lambda: _csv([f",call me on 020 7946 {1000 + i:04d} tonight,0" for i in range(200)]),
    "soft_labels": lambda: _csv(["1,a,0", "2,b,0.5", "3,c,0.99999999999999999"]),
    "yes_no": lambda: _csv(["1,a,yes", "2,b,no", "3,c,Yes"]),
    "colliding_labels": lambda: _csv(["1,a,0,1"], "id,comment_text,toxic,Toxic!\n"),
    "colliding_case": lambda: _csv(["1,a,0,1"], "id,comment_text,toxic,TOXIC\n"),
    "unicode_label": lambda: _csv(["1,a,0", "2,b,1"], "id,comment_text,toxicité\n"),
    "shift_jis": lambda: (HEADER + "1,日本語のコメントです,0\n2,ありがとう,1\n").encode("shift_jis"),
    "utf16_no_bom": lambda: (HEADER + "1,héllo,0\n2,world,1\n").encode("utf-16-le"),
    "utf32_bom": lambda: (HEADER + "1,héllo,0\n2,world,1\n").encode("utf-32"),
    "parquet": lambda: _frame_bytes("parquet"),
    "gzip": lambda: _frame_bytes("gzip"),
    "xlsx": lambda: _zipped("xl/workbook.xml"),
    "zip": lambda: _zipped("comments.csv"),
    "million_columns": lambda: (",".join(f"col_{i:07d}" for i in range(1_000_000)) + "\n").encode(),
    "long_line": lambda: _csv(["1,short,0", f"2,{'x' * 5000},1"]),
    "big_file": lambda: _csv([f"{i},{'y' * 1000},0" for i in range(2048)]),
}


def _build_path(kind: str, path: Path) -> bool:
    """File-system oddities that are not bytes; True when ``kind`` was one of them."""
    if kind == "directory":
        path.mkdir(exist_ok=True)
    elif kind == "symlink_loop":
        path.unlink(missing_ok=True)
        path.symlink_to(path.name)
    elif kind == "broken_symlink":
        path.unlink(missing_ok=True)
        path.symlink_to(path.parent / "gone.csv")
    else:
        return False
    return True


@dataclass
class Case:
    name: str
    path: Path
    spec: dict[str, Any]


@dataclass
class Outcome:
    """What happened to one input."""

    case: Case
    error: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    rejected_csv_cells: list[str] = field(default_factory=list)

    @property
    def accounted(self) -> int:
        r = self.report
        return r.get("rows_kept", 0) + r.get("rows_rejected", 0) + r.get("duplicates_merged", 0)

    @property
    def lost(self) -> int:
        """Records in the file (as a person counts them) that ended nowhere."""
        return 0 if self.error else self.case.spec["records"] - self.accounted


def load_cases(workdir: Path) -> list[Case]:
    """Every manifest entry, generated files written to ``workdir``."""
    manifest = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
    cases = []
    for name, spec in manifest.items():
        generator = spec.get("generate")
        if generator is None:
            path = HERE / name
        else:
            path = workdir / name
            if not _build_path(generator, path):
                build = GENERATORS[generator]
                if build is not None:
                    path.write_bytes(build())
        cases.append(Case(name, path, spec))
    return cases


def run_case(case: Case, workdir: Path) -> Outcome:
    """extract + transform (no sampling); an unexpected exception propagates (that is a bug)."""
    try:
        extracted = extract([case.path], DataConfig(**case.spec.get("config", {})))
        settings = {"sample_size": None, **case.spec.get("transform", {})}
        result = transform(extracted.frame, TransformConfig(**settings))
    except DataError as exc:
        return Outcome(case, error=str(exc))
    rejected_path = workdir / f"rejected_{case.name}.csv"
    write_file_artifact("csv", rejected_path, result.rejected)
    written = read_file_artifact("csv", rejected_path)
    cells = [
        str(v) for v in written.drop(columns=["source_row"], errors="ignore").to_numpy().ravel()
    ]
    return Outcome(
        case,
        report=result.report,
        notes=extracted.notes,
        reasons=result.rejected["reason"].tolist() if len(result.rejected) else [],
        texts=result.clean["text"].tolist(),
        rejected_csv_cells=cells,
    )


def problems(outcome: Outcome) -> list[str]:
    """How ``outcome`` differs from the manifest (empty when it matches)."""
    spec, out = outcome.case.spec, []
    if spec["outcome"] == "error":
        if outcome.error is None:
            return [f"expected an error containing {spec['error']!r}, got rows {outcome.report}"]
        if spec["error"] not in outcome.error:
            out.append(f"error {outcome.error!r} lacks {spec['error']!r}")
        if "\n" in outcome.error or len(outcome.error) > 400:
            out.append("error message is not one short line")
        return out
    if outcome.error is not None:
        return [f"unexpected error: {outcome.error}"]
    r = outcome.report
    expected = {
        "rows_in": spec["records"],
        "rows_kept": spec.get("kept", 0),
        "rows_rejected": spec.get("rejected", 0),
        "duplicates_merged": spec.get("merged", 0),
    }
    if "label_conflicts" in spec:
        expected["label_conflicts"] = spec["label_conflicts"]
    out += [f"{k}: expected {v}, got {r[k]}" for k, v in expected.items() if r[k] != v]
    if outcome.lost:
        out.append(f"{outcome.lost} row(s) lost")
    out += [
        f"no rejected reason contains {s!r}"
        for s in spec.get("reasons", [])
        if not any(s in x for x in outcome.reasons)
    ]
    out += [
        f"no note contains {s!r}"
        for s in spec.get("notes", [])
        if not any(s in n for n in outcome.notes)
    ]
    out += [
        f"no kept text contains {s!r}"
        for s in spec.get("texts", [])
        if not any(s in t for t in outcome.texts)
    ]
    unsafe = [c for c in outcome.rejected_csv_cells if c.startswith(FORMULA_PREFIXES)]
    if unsafe:
        out.append(f"rejected CSV has formula-like cells: {unsafe[:3]}")
    return out


def reasons_count(outcomes: list[Outcome]) -> tuple[dict[str, int], dict[str, int]]:
    """(rejected rows per reason kind, merged rows per reason) over every input with rows."""
    rejected: dict[str, int] = {}
    for o in outcomes:
        for kind, n in o.report.get("rejected_by_reason", {}).items():
            rejected[kind] = rejected.get(kind, 0) + n
    merged = {
        "same id, same raw text": sum(o.report.get("duplicates_by_id", 0) for o in outcomes),
        "same raw text, other id": sum(o.report.get("duplicates_by_text", 0) for o in outcomes),
    }
    return rejected, merged


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """The figures for docs/reliability.md."""
    return {
        "inputs tried": len(outcomes),
        "clear errors": sum(o.error is not None and not problems(o) for o in outcomes),
        "inputs with rows": sum(o.error is None for o in outcomes),
        "rows in": sum(o.report.get("rows_in", 0) for o in outcomes),
        "rows kept": sum(o.report.get("rows_kept", 0) for o in outcomes),
        "rows rejected": sum(o.report.get("rows_rejected", 0) for o in outcomes),
        "duplicates merged": sum(o.report.get("duplicates_merged", 0) for o in outcomes),
        "rows lost": sum(o.lost for o in outcomes),
        "mismatches": sum(bool(problems(o)) for o in outcomes),
    }


def frame(outcomes: list[Outcome]) -> pd.DataFrame:
    """One line per input, for the report."""
    return pd.DataFrame(
        [
            {
                "input": o.case.name,
                "what": o.case.spec.get("what", ""),
                "outcome": "error" if o.error else "rows",
                "kept": o.report.get("rows_kept", ""),
                "rejected": o.report.get("rows_rejected", ""),
                "merged": o.report.get("duplicates_merged", ""),
                "lost": "" if o.error else o.lost,
                "error": o.error or "",
                "as expected": not problems(o),
            }
            for o in outcomes
        ]
    )
