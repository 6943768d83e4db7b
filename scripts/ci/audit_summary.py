"""Judge a pip-audit JSON report: exit 1 on a known vulnerability, 2 when packages were skipped.

Usage: audit_summary.py REPORT.json [--allow-unreachable]. Skipped packages (the vulnerability
service could not be asked about them) make the audit incomplete, which is not a pass unless
--allow-unreachable is given. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OK, VULNERABLE, INCOMPLETE = 0, 1, 2


def judge(report: dict, allow_unreachable: bool = False) -> tuple[int, list[str]]:
    deps = report["dependencies"]
    skipped = [d for d in deps if d.get("skip_reason")]
    vulnerable = [d for d in deps if d.get("vulns")]
    n_vulns = sum(len(d["vulns"]) for d in vulnerable)
    lines = [
        f"audit: {len(deps)} packages, {len(deps) - len(skipped)} audited, "
        + f"{len(skipped)} skipped, {n_vulns} known vulnerabilities"
    ]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            lines.append(
                f"  VULNERABLE {dep['name']} {dep.get('version', '?')}: {vuln['id']} (fixed in: {fixes})"
            )
    if vulnerable:
        return VULNERABLE, lines
    if skipped:
        lines.append("!" * 78)
        lines.append(
            f"!! AUDIT INCOMPLETE: {len(skipped)} of {len(deps)} packages could not be looked up, e.g."
        )
        lines += [f"!!   {d['name']}: {d['skip_reason']}" for d in skipped[:3]]
        if allow_unreachable:
            lines.append("!! AUDIT_ALLOW_UNREACHABLE=1: not failing the build for this")
        lines.append("!" * 78)
        return (OK if allow_unreachable else INCOMPLETE), lines
    return OK, lines


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    code, out = judge(
        json.loads(Path(sys.argv[1]).read_text()), "--allow-unreachable" in sys.argv[2:]
    )
    print("\n".join(out))
    sys.exit(code)
