"""The API's settings: ``SOCIALSCORE_*`` variables (and ``.env`` in the working directory) on top of EnvSettings.

API keys are hashed (sha256) as soon as they are read; the plain keys are never kept.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from socialscore.errors import ConfigError
from socialscore.settings.env import EnvSettings

MIN_PRODUCTION_KEY_CHARS = 16


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiSettings(EnvSettings):
    """Everything the API reads from the environment; names are ``SOCIALSCORE_<FIELD>`` (and EnvSettings')."""

    model_config = SettingsConfigDict(
        env_prefix="SOCIALSCORE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "production"] = "development"
    # sha256 hex digests of the keys in SOCIALSCORE_API_KEYS (comma-separated): scoring only
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(default=(), repr=False)
    # SOCIALSCORE_ADMIN_KEYS: the only keys that may reload the model (and score); none = no admin calls
    admin_keys: Annotated[tuple[str, ...], NoDecode] = Field(default=(), repr=False)
    models_dir: Path = Path("models")
    # which registry alias to serve: production from models_dir, any other from models_dir/aliases/<alias>
    model_alias: str = Field(default="production", pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    max_text_chars: int = Field(default=10_000, ge=1)
    max_batch: int = Field(default=1_000, ge=1)
    # whole request body; sized for max_batch texts of typical length, not the worst case
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # bounded cost per client (docs/api.md "Limits"): explain: true has its own bounds
    explain_max_chars: int = Field(default=2_000, ge=1)
    explain_concurrency: int = Field(default=2, ge=1)
    explain_timeout: float = Field(default=10.0, gt=0)
    # per API key (per client address when no keys are set); 0 = no rate limit
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    rate_limit_burst: int = Field(default=20, ge=1)
    # connections (socialscore serve): a request must arrive whole within read_timeout seconds, and
    # each worker holds at most max_connections connections (more are closed at once)
    read_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=1_000, ge=1)
    _short_keys: int = PrivateAttr(default=0)  # keys shorter than MIN_PRODUCTION_KEY_CHARS (seen before hashing)

    @model_validator(mode="wrap")
    @classmethod
    def _count_short_keys(cls, data: object, handler: Any) -> ApiSettings:
        short = 0
        if isinstance(data, dict):
            for name in ("api_keys", "admin_keys"):
                short += sum(0 < len(k) < MIN_PRODUCTION_KEY_CHARS for k in _split_keys(data.get(name)))
        settings = handler(data)
        settings._short_keys = short
        return settings

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _hash_keys(cls, value: object) -> tuple[str, ...]:
        return tuple(hash_key(k) for k in _split_keys(value) if k)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys or self.admin_keys)

    @property
    def serving_dir(self) -> Path:
        from socialscore.registry.serving import alias_dir

        return alias_dir(self.models_dir, self.model_alias)

    def single_body_limit(self) -> int:
        """Byte limit for one-text bodies: the text at 6 bytes a character (\\uXXXX escapes) + slack."""
        return min(self.max_body_bytes, 6 * self.max_text_chars + 4096)

    def check_startable(self) -> None:
        """Production needs keys of at least 16 characters; raise ConfigError with a one-line message otherwise."""
        if self.env == "production" and not self.auth_enabled:
            raise ConfigError(
                "SOCIALSCORE_ENV=production but SOCIALSCORE_API_KEYS is empty: "
                "set one or more comma-separated API keys (refusing to start an open API)"
            )
        if self.env == "production" and self._short_keys:
            raise ConfigError(
                f"SOCIALSCORE_ENV=production but {self._short_keys} of the keys in SOCIALSCORE_API_KEYS/"
                f"SOCIALSCORE_ADMIN_KEYS {'is' if self._short_keys == 1 else 'are'} shorter than "
                f"{MIN_PRODUCTION_KEY_CHARS} characters: use long random keys (e.g. `openssl rand -hex 24`)"
            )


def _split_keys(value: object) -> list[str]:
    """The stripped keys of a comma-separated string (or a sequence); empty entries kept as ''."""
    if value is None:
        return []
    raw = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else [value]
    return [str(k).strip() for k in raw]


def load_settings(**overrides: object) -> ApiSettings:
    """Read the settings; a bad value becomes a ConfigError naming the variable."""
    try:
        return ApiSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "SOCIALSCORE_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"invalid {name}: {first['msg']}") from None
