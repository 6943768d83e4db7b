"""The shared data is found through ``../shared`` or ``$SOCIALSCORE_SHARED_DIR``, never a machine's path."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MACHINE_PATH = "/work/" + "shared"  # split so this file does not match itself


def test_no_code_or_doc_names_an_absolute_shared_path() -> None:
    files = [*REPO.glob("benchmarks/*.py"), *REPO.glob("src/**/*.py"), *REPO.glob("scripts/**/*"),
             *REPO.glob("docs/*.md"), *REPO.glob("*.md"), REPO / "benchmarks" / "README.md"]
    named = [str(f.relative_to(REPO)) for f in files
             if f.is_file() and MACHINE_PATH in f.read_text(encoding="utf-8", errors="replace")]
    assert named == []
