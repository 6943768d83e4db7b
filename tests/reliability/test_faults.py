"""Every fault of the environment ends in one line on stderr and exit code 1, never a traceback.

The corpus (issue 22, item 4): a read-only project, a full disk, a damaged or truncated SQLite file,
DATABASE_URL naming a file that is not a database, input nested past Python's recursion limit (the
config file, ``--set``, a JSON manifest), an output path that is a directory. The expected outcome of
each case is written next to it; docs/reliability.md ("Registry, outputs and faults") lists them.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from reliability.faults import full_disk, read_only
from socialscore.terminal.app import main

TRACEBACK = "Traceback"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the console entry point in-process; return (exit code, stderr)."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    assert TRACEBACK not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for word in words:
        assert word in err, err


def _deep_yaml(levels: int) -> str:
    return "a:\n" + "".join("  " * i + "b:\n" for i in range(1, levels))


# --- configuration nested past the recursion limit -----------------------------------------------
@pytest.mark.parametrize(
    ("case", "argv"),
    [
        ("a --set value of 5,000 nested lists", ["status", "--set", "train.cv_folds=" + "[" * 5000]),
        ("a --set key of 3,000 dotted parts", ["status", "--set", "a." * 3000 + "b=1"]),
        ("a --set value of 200 closed lists", ["status", "--set", "a=" + "[" * 200 + "]" * 200]),
    ],
)
def test_deeply_nested_overrides_are_one_line(case: str, argv: list[str], project_dir: Path, capsys) -> None:
    code, err = cli(capsys, *argv, "--project-dir", str(project_dir))
    one_line_error(code, err, "nested too deeply")


def test_a_deeply_nested_config_file_is_one_line(project_dir: Path, capsys) -> None:
    (project_dir / "socialscore.yaml").write_text(_deep_yaml(3000))
    code, err = cli(capsys, "status", "--project-dir", str(project_dir))
    one_line_error(code, err, "socialscore.yaml", "nested too deeply")


def test_a_deeply_nested_served_manifest_is_one_line(project_dir: Path, capsys) -> None:
    models = project_dir / "models"
    models.mkdir()
    (models / "bundle.json").write_text("[" * 100_000 + "]" * 100_000)
    (project_dir / "in.csv").write_text("text\nhello\n")
    code, err = cli(capsys, "predict", "-i", str(project_dir / "in.csv"), "-o", str(project_dir / "out.csv"),
                    "--project-dir", str(project_dir))
    one_line_error(code, err, "bundle.json", "nested too deeply")


# --- damaged databases ---------------------------------------------------------------------------
def _real_database(project: Path) -> Path:
    """A project database holding the registry tables and one run (made by the registry itself)."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry

    registry = ModelRegistry.for_project(load_settings("dev", project), Layout(project, "dev"))
    registry.start_run({"run_id": "20260101T000000.000001-dev-1", "mode": "dev", "pid": None, "steps": {},
                        "config": {"x": "y" * 20_000}, "code": {}})
    registry.engine.dispose()
    return project / "data" / "socialscore.db"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed header"])
def test_a_damaged_sqlite_file_is_one_line(damage: str, project_dir: Path, capsys) -> None:
    path = _real_database(project_dir)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database, just text\n" * 200)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(b"\0" * 100 + data[100:])
    for command in (["runs", "list"], ["models", "list"], ["status"]):
        code, err = cli(capsys, *command, "--project-dir", str(project_dir))
        if command == ["status"]:  # status reports a blocked database per row and exits 0
            assert TRACEBACK not in err, err
            continue
        one_line_error(code, err, "database")


def test_database_url_naming_a_csv_file_is_one_line(project_dir: Path, capsys, monkeypatch) -> None:
    csv = project_dir / "comments.csv"
    csv.write_text("id,comment_text\n1,hello\n" * 100)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{csv}")
    code, err = cli(capsys, "runs", "list", "--project-dir", str(project_dir))
    one_line_error(code, err, "database")
    assert csv.read_text().startswith("id,comment_text"), "the file is left as it was"


# --- read-only and full disks --------------------------------------------------------------------
def test_a_read_only_project_is_one_line(project_dir: Path, capsys) -> None:
    (project_dir / "socialscore.yaml").write_text("data:\n  example_rows: 100\n")
    with read_only(project_dir) as how:
        code, err = cli(capsys, "run", "--mode", "dev", "--project-dir", str(project_dir))
    one_line_error(code, err)
    assert "read-only" in err or "permission denied" in err, (how, err)


def test_a_full_disk_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    target = tmp_path / "small"
    with full_disk(target) as mounted:
        if not mounted:  # fault injection: the write itself fails as a full disk makes it fail
            import builtins

            real_open = builtins.open

            def failing_open(file, mode="r", *args, **kwargs):
                if "w" in str(mode) and str(file).startswith(str(target)):
                    raise OSError(errno.ENOSPC, "No space left on device", str(file))
                return real_open(file, mode, *args, **kwargs)

            monkeypatch.setattr(builtins, "open", failing_open)
        code, err = cli(capsys, "generate", "--output", str(target / "comments.csv"), "--rows", "20000")
    one_line_error(code, err, "no space left")
    assert not list(target.glob("*")), "no half-written file is left"


def test_a_run_that_fails_on_a_full_disk_is_closed_in_the_run_table(project_dir: Path, tmp_path: Path) -> None:
    """A step that dies on ENOSPC (not an expected error) still closes its run record: 'failed', not 'running'."""
    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.pipeline.artifacts import Artifact
    from socialscore.pipeline.context import StepSpec
    from socialscore.pipeline.orchestrator import Orchestrator
    from socialscore.registry.store import ModelRegistry

    target = tmp_path / "small"

    def fill(ctx) -> None:
        with open(target / "big.bin", "wb") as handle:
            if not mounted:
                raise OSError(errno.ENOSPC, "No space left on device", str(target / "big.bin"))
            handle.write(b"x" * 1_000_000)

    artifacts = {"big": Artifact("big", "json", "fill", lambda lay, s: target / "big.json")}
    steps = (StepSpec("fill", reads=(), writes=("big",), config=(), run=fill),)
    settings = load_settings("dev", project_dir)
    layout = Layout.for_settings(settings, project_dir)
    orchestrator = Orchestrator(settings, layout, steps=steps, artifacts=artifacts)
    with full_disk(target) as mounted, pytest.raises(OSError):
        orchestrator.run()
    runs = ModelRegistry.for_project(settings, layout).list_runs()
    assert [r["status"] for r in runs] == ["failed"]
    assert "no space left" in runs[0]["error"]


# --- outputs -------------------------------------------------------------------------------------
def test_an_output_that_is_a_directory_is_refused_before_any_work(project_dir: Path, capsys, monkeypatch) -> None:
    (project_dir / "in.csv").write_text("text\nhello\n")
    (project_dir / "out").mkdir()
    loaded: list[bool] = []
    import socialscore.steps.predict as predict_step

    monkeypatch.setattr(predict_step, "served_loader", lambda models: lambda: loaded.append(True))
    code, err = cli(capsys, "predict", "-i", str(project_dir / "in.csv"), "-o", str(project_dir / "out"),
                    "--project-dir", str(project_dir))
    one_line_error(code, err, "is a directory")
    assert loaded == [], "nothing was scored or loaded"
    code, err = cli(capsys, "generate", "--output", str(project_dir / "out"), "--rows", "10")
    one_line_error(code, err, "is a directory")


def test_deeply_nested_json_gets_422_with_its_reason(tmp_path: Path) -> None:
    import sys

    from fastapi.testclient import TestClient

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
    from tiny_bundle import build_tiny_bundle

    from socialscore.api.service import create_app
    from socialscore.api.settings import ApiSettings

    models = build_tiny_bundle(tmp_path / "project" / "models")
    app = create_app(ApiSettings(_env_file=None, models_dir=models))  # type: ignore[call-arg]
    body = '{"texts": ' + "[" * 5000 + "]" * 5000 + "}"  # 10 kB: under the body limit
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON nested deeper than" in response.json()["error"]["message"]  # was "not valid UTF-8 JSON"


KILLED_RUN = """
import sys, time
from pathlib import Path
from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.pipeline.artifacts import Artifact
from socialscore.pipeline.context import StepSpec
from socialscore.pipeline.orchestrator import Orchestrator

project = Path(sys.argv[1])

def slow(ctx):
    (project / "started").write_text("yes")
    time.sleep(120)

artifacts = {"out": Artifact("out", "json", "slow", lambda lay, s: lay.processed("out", "json"))}
steps = (StepSpec("slow", reads=(), writes=("out",), config=(), run=slow),)
Orchestrator(load_settings("dev", project), Layout(project, "dev"), steps=steps, artifacts=artifacts).run()
"""


def test_a_run_killed_with_sigkill_is_marked_aborted(project_dir: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from socialscore.config import load_settings
    from socialscore.layout import Layout
    from socialscore.registry.store import ModelRegistry

    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    child = subprocess.Popen([sys.executable, str(script), str(project_dir)])
    deadline = time.monotonic() + 120
    while not (project_dir / "started").exists():
        assert child.poll() is None and time.monotonic() < deadline, "the run did not start"
        time.sleep(0.2)
    registry = ModelRegistry.for_project(load_settings("dev", project_dir), Layout(project_dir, "dev"))
    assert [r["status"] for r in registry.list_runs()] == ["running"]  # alive: left alone
    child.send_signal(signal.SIGKILL)
    child.wait()
    runs = registry.list_runs()
    assert [r["status"] for r in runs] == ["aborted"]  # was "running" for ever
    assert runs[0]["finished_at"] is not None
