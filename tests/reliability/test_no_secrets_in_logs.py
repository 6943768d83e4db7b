"""No comment text, API key or database password in logs, console output or reports.

Comments may live in data files, the database and the model's vocabulary; they must not appear in
anything a person or a log shipper reads: logs/, stdout/stderr, reports/, state and metadata JSON.
"""

from __future__ import annotations

import io
import logging
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reliability.helpers import CANARY, MODE, crafted_data, make_project, run_cli
from socialscore.api.service import create_app
from socialscore.api.settings import ApiSettings
from socialscore.errors import DatabaseError
from socialscore.storage.db.database import Database

pytestmark = pytest.mark.slow

API_KEY = "sk-CANARYKEY-" + uuid.uuid4().hex
PASSWORD = "pw-CANARYPASS-" + uuid.uuid4().hex[:12]
TEXT_SUFFIXES = (".log", ".json", ".html", ".csv", ".txt", ".yaml")


def canary_comments() -> list[str]:
    train, prod = crafted_data()
    texts = [*train["comment_text"], *prod["comment_text"]]
    return [t.lower() for t in texts if CANARY in t]


def readable_files(project: Path) -> dict[str, str]:
    """Everything a person reads: logs, reports, state, model metadata (not data/ or binary models)."""
    found = {}
    for sub in ("logs", "reports", ".socialscore", "models"):
        for path in (project / sub).rglob("*"):
            if path.is_file() and path.suffix in TEXT_SUFFIXES:
                found[str(path.relative_to(project))] = path.read_text(
                    encoding="utf-8", errors="replace"
                )
    return found


def assert_no_comment_text(where: str, text: str, console: bool) -> None:
    low = text.lower()
    for comment in canary_comments():
        assert comment not in low, f"a comment's text appears in {where}"
    if console:  # logs and console have no reason to name even a single word of a comment
        assert CANARY.lower() not in low, f"a comment's word appears in {where}"


def test_pipeline_run_leaks_no_comment_text(crafted_run) -> None:
    project, result = crafted_run.project, crafted_run.result
    assert_no_comment_text("stdout", result.stdout, console=True)
    assert_no_comment_text("stderr", result.stderr, console=True)
    files = readable_files(project)
    assert f"logs/pipeline_{MODE}.log" in files and f"reports/predictions_{MODE}.csv" in files
    for name, text in files.items():
        assert_no_comment_text(name, text, console=name.startswith("logs/"))
    # the comments are there as data (so the check above is not vacuous)
    assert CANARY in (project / "data" / "raw" / "train.csv").read_text()
    status = run_cli("status", "--mode", MODE, "--project-dir", str(project))
    assert_no_comment_text("status output", status.stdout + status.stderr, console=True)


def test_api_logs_hold_no_key_or_comment_text(crafted_run, capfd) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    # the test's own client (httpx) logs the URLs it requests, key-in-query attempt included
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    loggers = [
        logging.getLogger(n) for n in ("", "socialscore", "uvicorn", "uvicorn.access", "fastapi")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        settings = ApiSettings(
            _env_file=None, api_keys=API_KEY, models_dir=crafted_run.project / "models"
        )
        texts = canary_comments()[:3]
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            ok = client.post("/v1/score", json={"text": texts[0]}, headers={"X-API-Key": API_KEY})
            assert ok.status_code == 200
            batch = client.post(
                "/v1/score/batch",
                json={"texts": texts},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            assert batch.status_code == 200
            assert (
                client.post(
                    "/v1/score", json={"text": texts[1]}, headers={"X-API-Key": API_KEY[:-1]}
                ).status_code
                == 401
            )
            assert (
                client.post(f"/v1/score?api_key={API_KEY}", json={"text": texts[2]}).status_code
                == 401
            )
            bad = client.post(
                "/v1/score",
                json={"text": texts[0], "extra": texts[1]},
                headers={"X-API-Key": API_KEY},
            )
            assert bad.status_code == 422
            assert texts[1] not in bad.text.lower()  # validation errors do not echo the input back
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
    out, err = capfd.readouterr()
    logged = stream.getvalue()
    assert "score" in logged  # the access log is on, so the search below has something to search
    for where, text in (("API log", logged), ("stdout", out), ("stderr", err)):
        assert API_KEY not in text and API_KEY[:-1] not in text, f"the API key appears in {where}"
        assert_no_comment_text(where, text, console=True)


# --- DATABASE_URL passwords --------------------------------------------------------------------------
def _assert_no_password(where: str, text: str) -> None:
    assert PASSWORD not in text, f"the database password appears in {where}"


def test_unreachable_database_error_hides_password(project_dir: Path) -> None:
    url = f"postgresql://socialscore:{PASSWORD}@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseError) as caught:
        Database.from_url(url, connect_timeout=2).table_exists("comments_dev")
    _assert_no_password("DatabaseError", str(caught.value))
    assert "127.0.0.1:1" in str(caught.value)

    make_project(project_dir)
    for verbose in ([], ["--verbose"]):
        result = run_cli(
            "run",
            "--mode",
            MODE,
            "--project-dir",
            str(project_dir),
            "--steps",
            "extract",
            "transform",
            "load",
            *verbose,
            env={"DATABASE_URL": url},
        )
        assert result.returncode == 1
        assert "cannot connect to PostgreSQL" in result.stderr
        _assert_no_password("stdout/stderr", result.stdout + result.stderr)
    status = run_cli(
        "status", "--mode", MODE, "--project-dir", str(project_dir), env={"DATABASE_URL": url}
    )
    _assert_no_password("status", status.stdout + status.stderr)
    for name, text in readable_files(project_dir).items():
        _assert_no_password(name, text)


@pytest.mark.postgres
def test_postgres_run_never_prints_password(postgres_url: str, project_dir: Path) -> None:
    """Trust auth ignores the password, so a URL carrying one still connects: the success path."""
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(password=PASSWORD).render_as_string(hide_password=False)
    prefix = f"leak_{uuid.uuid4().hex[:8]}"
    make_project(project_dir)
    env = {"DATABASE_URL": url}
    try:
        result = run_cli(
            "run",
            "--mode",
            MODE,
            "--project-dir",
            str(project_dir),
            "--verbose",
            "--set",
            f"database.table_prefix={prefix}",
            "--steps",
            "extract",
            "transform",
            "load",
            "features",
            env=env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "PostgreSQL" in (project_dir / "logs" / f"pipeline_{MODE}.log").read_text()
        _assert_no_password("stdout/stderr", result.stdout + result.stderr)
        status = run_cli(
            "status",
            "--mode",
            MODE,
            "--project-dir",
            str(project_dir),
            "--set",
            f"database.table_prefix={prefix}",
            env=env,
        )
        _assert_no_password("status", status.stdout + status.stderr)
        for name, text in readable_files(project_dir).items():
            _assert_no_password(name, text)
        with Database.from_url(url) as db:  # a failing statement: the error names no password
            with pytest.raises(DatabaseError) as caught:
                db.read_table(f"{prefix}_missing")
            _assert_no_password("DatabaseError", str(caught.value))
            assert repr(db.url).count(PASSWORD) == 0 and PASSWORD not in db.describe()
    finally:
        with Database.from_url(postgres_url) as db:
            db.drop_table(f"{prefix}_{MODE}")
