"""Copy the NLTK resources a serving bundle lists (bundle.json ``nltk_resources``) into a build dir.

Usage: stage_nltk.py MODELS_DIR NLTK_CACHE_DIR OUT_DIR — prints how many resources it staged;
exits non-zero naming a resource the cache does not hold. Standard library only.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

# the same names as socialscore.text.nltk_resources.RESOURCE_PATHS (kept stdlib-only on purpose;
# tests/deploy/test_ci_copies.py compares them)
KNOWN = {
    "stopwords": "corpora/stopwords",
    "wordnet": "corpora/wordnet",
    "omw-1.4": "corpora/omw-1.4",
    "punkt_tab": "tokenizers/punkt_tab",
    "punkt": "tokenizers/punkt",
    "vader_lexicon": "sentiment/vader_lexicon.zip",
}


def stage(models_dir: Path, cache: Path, out: Path) -> int:
    manifest = json.loads((models_dir / "bundle.json").read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    resources = list(manifest.get("nltk_resources") or [])
    for name in resources:
        rel = KNOWN.get(name, name)
        base = cache / rel
        found = [c for c in (base, base.with_name(base.name + ".zip")) if c.exists()]
        if not found:
            sys.exit(f"stage_nltk: the model needs NLTK resource '{name}' but {cache} has no {rel}")
        for item in found:
            target = out / item.relative_to(cache)
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, target)
    return len(resources)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    count = stage(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print(count)
