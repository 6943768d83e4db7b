"""Copy the serving bundle — bundle.json and the files its "files" map lists — to a directory.

    stage_bundle.py MODELS_DIR OUT_DIR     # prints the staged file names

Standard library only (runs in the docker builder image). The image copies OUT_DIR into /app/models,
so it holds what the API loads and nothing else (no registry, no old versions, no training pickles).
Each file's sha256 is checked against the manifest on the way.

The joblib export (model.joblib + vectorizer.joblib, for other tools; the API never loads it) is left
out: it stays in models/ (the training artifact, and the CI model cache) but not in the image. The
staged bundle.json lists the files staged, and names the export under "not_shipped".
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

MANIFEST = "bundle.json"
# the same names as socialscore.registry.serving.COMPAT_MODEL/COMPAT_VECTORIZER (stdlib-only copy;
# tests/deploy/test_ci_copies.py compares them)
EXPORT_ONLY = ("model.joblib", "vectorizer.joblib")


def stage(models_dir: Path, out_dir: Path) -> list[str]:
    manifest = json.loads((models_dir / MANIFEST).read_text(encoding="utf-8"))
    files = manifest.get("files") or {}
    if not files:
        raise SystemExit(f"{models_dir / MANIFEST} lists no files")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    shipped = {name: sha for name, sha in files.items() if name not in EXPORT_ONLY}
    if not shipped:
        raise SystemExit(f"{models_dir / MANIFEST} lists only the joblib export: nothing the API loads")
    for name, expected in sorted(shipped.items()):
        source = models_dir / name
        if Path(name).name != name or not source.is_file():
            raise SystemExit(f"bundle file {name!r} is not a file in the top level of {models_dir}")
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if expected and digest != expected:
            raise SystemExit(f"{source}: sha256 {digest} does not match bundle.json ({expected})")
        shutil.copy2(source, out_dir / name)
    left_out = sorted(set(files) - set(shipped))
    served = {**manifest, "files": shipped, **({"not_shipped": left_out} if left_out else {})}
    # last: the directory is complete when bundle.json exists
    (out_dir / MANIFEST).write_text(json.dumps(served, indent=2) + "\n", encoding="utf-8")
    return sorted(shipped) + [MANIFEST]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print("\n".join(stage(Path(sys.argv[1]), Path(sys.argv[2]))))
