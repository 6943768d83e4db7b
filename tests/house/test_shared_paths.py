"""The shared data is found through ``../shared`` or ``$SOCIALSCORE_SHARED_DIR``, never a machine's path."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# An absolute path into a directory named "shared" (``../shared`` is relative: a dot stands before its slash).
# Built from parts, so no machine's path is spelled here.
SHARED = "shared"
ABSOLUTE_SHARED = re.compile(rf"(?<![\w.~/-])/(?:[\w.-]+/)*{SHARED}\b(?!\.)")


def named_files(files: list[Path]) -> list[str]:
    return [str(f.relative_to(REPO)) for f in files
            if f.is_file() and ABSOLUTE_SHARED.search(f.read_text(encoding="utf-8", errors="replace"))]


def test_no_code_or_doc_names_an_absolute_shared_path() -> None:
    files = [*REPO.glob("benchmarks/*.py"), *REPO.glob("src/**/*.py"), *REPO.glob("scripts/**/*"),
             *REPO.glob("docs/*.md"), *REPO.glob("*.md"), REPO / "benchmarks" / "README.md"]
    assert named_files(files) == []


def test_the_pattern_tells_a_machine_path_from_the_relative_one() -> None:
    machine = "/".join(["", "work", SHARED, "data", "jigsaw"])
    assert ABSOLUTE_SHARED.search(f"--data {machine}/cleaned_training_sample.csv")
    assert ABSOLUTE_SHARED.search(f'SHARED = "{(REPO.parent / SHARED).resolve()}"')
    for relative in (f"../{SHARED}/data/jigsaw", f"~/{SHARED}/x", f"src/{SHARED}/x", f"/usr/{SHARED}.py"):
        assert not ABSOLUTE_SHARED.search(relative), relative
