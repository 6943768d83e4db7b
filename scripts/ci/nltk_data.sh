#!/usr/bin/env bash
# Make every resource in NLTK_RESOURCES present in data/cache/nltk_data: restored by restore-cache,
# else copied from NLTK_SOURCE_DIR (a local nltk_data directory), else downloaded.
source "$(dirname "$0")/common.sh"
export CI_STEP="${CI_STEP:-nltk}"
[ -n "$NLTK_RESOURCES" ] || { log "no NLTK_RESOURCES"; exit 0; }
mkdir -p "$NLTK_DIR"
uv_run python - "$NLTK_DIR" $NLTK_RESOURCES <<'PY'
import shutil, sys
from pathlib import Path
import os
from socialscore.text.nltk_resources import RESOURCE_PATHS, ensure_resource

cache = Path(sys.argv[1])
source = os.environ.get("NLTK_SOURCE_DIR")
for name in sys.argv[2:]:
    rel = RESOURCE_PATHS.get(name, name)
    if source and not (cache / rel).exists():
        for candidate in (Path(source) / rel, Path(source) / (rel + ".zip")):
            if candidate.exists():
                target = cache / candidate.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if candidate.is_dir() else shutil.copy2)(candidate, target)
    print(f"nltk: {name} at {ensure_resource(name, cache)}")
PY
