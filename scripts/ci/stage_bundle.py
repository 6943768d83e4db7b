"""Copy the serving bundle — bundle.json and exactly the files its "files" map lists — to a directory.

    stage_bundle.py MODELS_DIR OUT_DIR     # prints the staged file names

Standard library only (runs in the docker builder image). The image copies OUT_DIR into /app/models,
so it holds what the API loads and nothing else (no registry, no old versions, no training pickles).
Each file's sha256 is checked against the manifest on the way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

MANIFEST = "bundle.json"


def stage(models_dir: Path, out_dir: Path) -> list[str]:
    manifest = json.loads((models_dir / MANIFEST).read_text(encoding="utf-8"))
    files = manifest.get("files") or {}
    if not files:
        raise SystemExit(f"{models_dir / MANIFEST} lists no files")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for name, expected in sorted(files.items()):
        source = models_dir / name
        if Path(name).name != name or not source.is_file():
            raise SystemExit(f"bundle file {name!r} is not a file in the top level of {models_dir}")
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if expected and digest != expected:
            raise SystemExit(f"{source}: sha256 {digest} does not match bundle.json ({expected})")
        shutil.copy2(source, out_dir / name)
    shutil.copy2(models_dir / MANIFEST, out_dir / MANIFEST)  # last: complete when it exists
    return sorted(files) + [MANIFEST]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print("\n".join(stage(Path(sys.argv[1]), Path(sys.argv[2]))))
