"""The one object that reads the environment and a ``.env`` file, for the CLI and the API alike.

Variables already set in the environment win over the ``.env`` file. The CLI reads the project
directory's ``.env``; the API (``ApiSettings``, a subclass) reads the one in its working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EnvSettings(BaseSettings):
    """The database (``DATABASE_URL`` or ``DB_*``) and ``NLTK_DATA``, by their usual names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL", repr=False)
    db_host: str | None = Field(default=None, validation_alias="DB_HOST")
    db_port: str | None = Field(default=None, validation_alias="DB_PORT")  # checked where used: one-line error
    db_name: str | None = Field(default=None, validation_alias="DB_NAME")
    db_user: str | None = Field(default=None, validation_alias="DB_USER")
    db_password: str | None = Field(default=None, validation_alias="DB_PASSWORD", repr=False)
    nltk_data: str | None = Field(default=None, validation_alias=AliasChoices("NLTK_DATA", "nltk_data"))

    @classmethod
    def for_project(cls, project_dir: Path) -> Self:
        """The environment plus ``project_dir/.env`` (when there is one)."""
        return cls(_env_file=Path(project_dir) / ".env")  # type: ignore[call-arg]

    def export_nltk_data(self) -> None:
        """Let NLTK's lookup (which reads ``os.environ``) see a ``NLTK_DATA`` given only in ``.env``."""
        if self.nltk_data:
            os.environ.setdefault("NLTK_DATA", self.nltk_data)
