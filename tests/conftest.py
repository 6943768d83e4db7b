"""Fixtures shared by the whole suite: temporary projects, optional shared data, PostgreSQL.

Tests that need ``../shared`` data, a PostgreSQL server or a browser skip with a reason when it is
missing. With ``SOCIALSCORE_NO_SKIP=1`` (set by ``.ci/run``) every such skip becomes a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("SOCIALSCORE_SHARED_DIR", REPO_ROOT.parent / "shared"))


def _strict() -> bool:
    return os.environ.get("SOCIALSCORE_NO_SKIP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _strict() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under SOCIALSCORE_NO_SKIP=1: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped while it is imported (``pytest.importorskip`` at module level) never reaches
    ``pytest_runtest_makereport``: under SOCIALSCORE_NO_SKIP=1 that skip fails the collection too."""
    outcome = yield
    report = outcome.get_result()
    if _strict() and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped at import under SOCIALSCORE_NO_SKIP=1: {reason}"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """An empty project directory (the pipeline's working directory)."""
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data directory {SHARED_DIR} is absent")
    return SHARED_DIR


@pytest.fixture(scope="session")
def shared_file(shared_dir: Path):
    """``shared_file("data/jigsaw/cleaned_training_sample.csv")`` → its path, or skip with a reason."""

    def locate(relative: str) -> Path:
        path = shared_dir / relative
        if not path.exists():
            pytest.skip(f"shared file {path} is absent")
        return path

    return locate


@pytest.fixture(scope="session")
def shared_nltk_data(shared_dir: Path) -> Path:
    path = shared_dir / "nltk_data"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL from SOCIALSCORE_TEST_DATABASE_URL, or skip."""
    url = os.environ.get("SOCIALSCORE_TEST_DATABASE_URL")
    if not url:
        pytest.skip("SOCIALSCORE_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    """A socialscore Database on an embedded SQLite file, then on PostgreSQL (skips without a URL)."""
    from socialscore.storage.db.database import Database

    if request.param == "sqlite":
        db = Database.from_url(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        db = Database.from_url(request.getfixturevalue("postgres_url"))
    yield db
    db.close()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep a developer's database settings from leaking into tests, and tests out of the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    for name in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
