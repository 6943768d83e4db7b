"""One settings object reads the environment and .env for the CLI, the database and the API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialscore.api.settings import ApiSettings
from socialscore.api.settings import load_settings as load_api_settings
from socialscore.config import load_settings
from socialscore.layout import Layout
from socialscore.settings.env import EnvSettings
from socialscore.storage.db.database import Database
from socialscore.terminal.app import app

runner = CliRunner()
DB_VARS = ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "NLTK_DATA")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*DB_VARS, "SOCIALSCORE_PORT", "SOCIALSCORE_MODEL_ALIAS"):
        monkeypatch.setenv(name, "")  # recorded, so whatever a test sets is undone
        monkeypatch.delenv(name)


def _database(project: Path) -> Database:
    return Database.from_settings(load_settings("dev", project), Layout(project, "dev"))


def test_the_database_reads_the_project_env_file_and_the_environment_wins(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (project_dir / ".env").write_text("DB_HOST=db.from-dotenv\nDB_NAME=social\nDB_PASSWORD=hunter2\n")
    monkeypatch.chdir(tmp_path)  # the project's .env, not the working directory's
    assert _database(project_dir).describe() == "PostgreSQL db.from-dotenv:5432/social"
    assert "DB_HOST" not in os.environ  # read, not exported
    monkeypatch.setenv("DB_HOST", "db.from-env")
    assert _database(project_dir).describe() == "PostgreSQL db.from-env:5432/social"
    assert "hunter2" not in repr(EnvSettings.for_project(project_dir))


def test_one_project_env_file_does_not_leak_into_the_next_project(tmp_path: Path) -> None:
    broken, plain = tmp_path / "broken", tmp_path / "plain"
    broken.mkdir(), plain.mkdir()
    (broken / ".env").write_text("DB_HOST=db.internal\nDB_PORT=not-a-port\n")
    first = runner.invoke(app, ["status", "--project-dir", str(broken)], env={"COLUMNS": "300"})
    assert "DB_PORT must be a number" in first.output
    second = runner.invoke(app, ["status", "--project-dir", str(plain)], env={"COLUMNS": "300"})
    assert second.exit_code == 0, second.output  # embedded SQLite: nothing of broken/.env is left over
    assert "DB_PORT" not in second.output and "blocked" not in second.output


def test_the_api_reads_the_same_object_from_its_working_directory(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project_dir / ".env").write_text("SOCIALSCORE_PORT=9123\nSOCIALSCORE_MODEL_ALIAS=staging\nDB_HOST=db.internal\n")
    monkeypatch.chdir(project_dir)
    api = load_api_settings()
    assert isinstance(api, EnvSettings) and isinstance(api, ApiSettings)
    assert (api.port, api.model_alias, api.db_host) == (9123, "staging", "db.internal")
    assert EnvSettings.for_project(project_dir).db_host == api.db_host


def test_nltk_data_from_env_file_reaches_nltk(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project_dir / ".env").write_text(f"NLTK_DATA={project_dir / 'nltk'}\n")
    result = runner.invoke(app, ["status", "--project-dir", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert os.environ.get("NLTK_DATA") == str(project_dir / "nltk")
