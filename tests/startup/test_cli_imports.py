"""The CLI's fixed cost: a command imports only what it uses (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("psycopg", "sqlalchemy", "numpy", "pandas", "scipy", "sklearn", "matplotlib", "numba", "rich", "pydantic")


def _modules_after(script: str, *args: str) -> list[str]:
    probe = script + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_driver_numeric_or_rendering_library() -> None:
    script = (
        "import sys\nfrom socialscore.terminal.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
    )
    assert _modules_after(script) == []


def test_a_sqlite_database_never_imports_psycopg(tmp_path: Path) -> None:
    script = (
        "import sys\nimport pandas as pd\nfrom socialscore.storage.db.database import Database\n"
        "db = Database.from_url('sqlite:///' + sys.argv[1])\n"
        "db.replace_table('t', pd.DataFrame({'id': ['a', 'b'], 'x': [1, 2]}))\n"
        "assert db.read_table('t')['x'].tolist() == [1, 2]\nassert db.table_checksum('t')\n"
    )
    assert "psycopg" not in _modules_after(script, str(tmp_path / "x.db"))
