"""Fail when an image's vulnerability scan holds a finding at or above a severity.

    scan_gate.py THRESHOLD REPORT.json    # exit 1 (listing the findings) or 0 (a count per severity)

REPORT is `gcloud artifacts docker images list-vulnerabilities SCAN --format=json`: a list of
occurrences whose ``vulnerability.effectiveSeverity`` (or ``severity``) is one of CRITICAL, HIGH,
MEDIUM, LOW, MINIMAL (SEVERITY_UNSPECIFIED counts as MINIMAL). THRESHOLD is one of those names, or
NONE to report without failing. Standard library only (runs in the cloud-sdk image).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LEVELS = ["MINIMAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def severity(occurrence: dict[str, Any]) -> str:
    vulnerability = occurrence.get("vulnerability") or {}
    name = str(vulnerability.get("effectiveSeverity") or vulnerability.get("severity") or "MINIMAL").upper()
    return name if name in LEVELS else "MINIMAL"


def describe(occurrence: dict[str, Any]) -> str:
    vulnerability = occurrence.get("vulnerability") or {}
    packages = {
        f"{issue.get('affectedPackage', '?')} {(issue.get('affectedVersion') or {}).get('fullName', '')}".strip()
        for issue in vulnerability.get("packageIssue") or []
    }
    note = str(occurrence.get("noteName", "")).rsplit("/", 1)[-1]
    fixed = " (fix available)" if vulnerability.get("fixAvailable") else ""
    return f"{severity(occurrence)} {note} in {', '.join(sorted(packages)) or '?'}{fixed}"


def gate(threshold: str, occurrences: list[dict[str, Any]]) -> tuple[bool, Counter[str], list[str]]:
    """(passed, count per severity, the findings at or above the threshold)."""
    threshold = threshold.upper()
    if threshold != "NONE" and threshold not in LEVELS:
        raise SystemExit(f"scan_gate: threshold {threshold!r} is not one of {', '.join(LEVELS)} or NONE")
    counts = Counter(severity(o) for o in occurrences)
    if threshold == "NONE":
        return True, counts, []
    blocking = [describe(o) for o in occurrences if LEVELS.index(severity(o)) >= LEVELS.index(threshold)]
    return not blocking, counts, sorted(blocking)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.exit(__doc__)
    text = Path(argv[2]).read_text(encoding="utf-8").strip()
    occurrences = json.loads(text) if text else []
    passed, counts, blocking = gate(argv[1], occurrences)
    summary = ", ".join(f"{level} {counts.get(level, 0)}" for level in reversed(LEVELS))
    print(f"scan: {len(occurrences)} finding(s): {summary}")
    if not passed:
        print(f"scan FAILED: {len(blocking)} finding(s) at or above {argv[1].upper()}:", file=sys.stderr)
        for line in blocking:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
