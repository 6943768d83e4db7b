"""Layer facts of a locally built image, from `podman history --format json` (sizes in bytes).

    image_layers.py report IMAGE            # the non-empty layers, newest first; checks the model
                                            # bundle is the newest layer and the venv has its own
    image_layers.py diff OLD_IMAGE NEW_IMAGE  # the layers NEW has that OLD has not, and their total

Exit 1 when a check fails. PODMAN (default "podman --storage-driver vfs") names the command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

MB = 1_000_000


def is_venv_layer(row: dict[str, Any]) -> bool:
    """`COPY --from=builder /app/.venv /app/.venv` (buildah records it as `COPY dir:… in /app/.venv`)."""
    return "COPY" in row["created_by"] and re.search(r"/app/\.venv/?$", row["created_by"]) is not None


def history(image: str) -> list[dict[str, Any]]:
    """Newest first: {"id", "size", "created_by"} per history entry."""
    podman = os.environ.get("PODMAN", "podman --storage-driver vfs").split()
    out = subprocess.run([*podman, "history", "--no-trunc", "--format", "json", image],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for entry in json.loads(out):
        lowered = {k.lower(): v for k, v in entry.items()}
        rows.append({"id": lowered.get("id", ""), "size": int(lowered.get("size") or 0),
                     "created_by": " ".join(str(lowered.get("createdby", "")).split())})
    return rows


def show(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(f"  {row['size'] / MB:9.1f} MB  {row['created_by'][:100]}")


def report(image: str) -> int:
    rows = [r for r in history(image) if r["size"] > 0]
    total = sum(r["size"] for r in rows)
    print(f"{image}: {total / MB:.1f} MB in {len(rows)} non-empty layers (newest first):")
    show(rows)
    failures = []
    if "/app/models" not in rows[0]["created_by"]:
        failures.append(f"the newest layer is not the model bundle: {rows[0]['created_by']}")
    if not any(is_venv_layer(r) for r in rows):
        failures.append("no layer of its own holds the dependency virtualenv")
    model = rows[0]["size"]
    print(f"model layer: {model / MB:.1f} MB; largest layer: {max(r['size'] for r in rows) / MB:.1f} MB")
    for failure in failures:
        print("FAIL " + failure, file=sys.stderr)
    return 1 if failures else 0


def diff(old: str, new: str) -> int:
    known = {r["id"] for r in history(old)}
    fresh = [r for r in history(new) if r["id"] not in known and r["size"] > 0]
    total = sum(r["size"] for r in fresh)
    print(f"{new} vs {old}: {len(fresh)} new non-empty layer(s), {total / MB:.2f} MB:")
    show(fresh)
    venv_rebuilt = any(is_venv_layer(r) for r in fresh)
    if venv_rebuilt:
        print("FAIL the dependency layer was rebuilt", file=sys.stderr)
    return 1 if venv_rebuilt else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "report":
        sys.exit(report(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        sys.exit(diff(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
