"""Fixtures for the database tests: the suite's database by a short name, and a throwaway table."""

from __future__ import annotations

import uuid

import pytest

from socialscore.storage.db.database import Database


@pytest.fixture
def db(database: Database) -> Database:
    """The suite's SQLite-then-PostgreSQL ``database`` fixture (tests/conftest.py), by a short name."""
    return database


@pytest.fixture
def table(db: Database):
    """A table name unique to this test (parallel runs share the PostgreSQL database); dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    db.drop_table(name)
