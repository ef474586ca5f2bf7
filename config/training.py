"""Settings of `sarah train …`: which backend tunes Sarah, on what base, and where results go.

Kept apart from the bot's settings so the bot starts without any of them. Field names are the
environment variables (lower-cased); `.env` is read; secrets are `SecretStr`; a bad value raises
`SettingsError` with one line per variable, as the bot's settings do. The local backend's `LOCAL_*`
settings are in `config.training_local`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import SettingsError, describe_validation_error

Backend = Literal["openai", "azure", "local"]


class TrainingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    finetune_backend: Backend = "openai"
    finetune_base_model: str = Field(default="gpt-4.1-mini-2025-04-14", min_length=1)
    finetune_epochs: int = Field(default=3, ge=1, le=50)
    finetune_suffix: str = Field(default="sarah", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    finetune_seed: int = Field(default=42, ge=0)
    wandb_project: str | None = None
    wandb_entity: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    redis_url: str | None = None  # where `sarah train harvest` / `gaps` read the hand-offs (the bot's REDIS_URL)
    url_api_key: SecretStr | None = None  # sent to `url:…` model specs (evaluate, judge); never OPENAI_API_KEY
    azure_openai_endpoint: str | None = None
    azure_openai_api_key: SecretStr | None = None
    azure_openai_api_version: str = Field(default="2025-02-01-preview", min_length=1)
    poll_seconds: float = Field(default=10.0, gt=0, le=3600)
    # a paused or stuck job must not keep the command waiting for ever (a week at most)
    finetune_follow_timeout_minutes: float = Field(default=1440.0, gt=0, le=10080)

    @field_validator("finetune_backend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("openai_base_url", "azure_openai_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("wandb_project", "wandb_entity")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


def load_training_settings(env_file: Path | str | None = ".env", **overrides: Any) -> TrainingSettings:
    """Read the environment (and `env_file`); raise `SettingsError` naming each bad variable."""
    try:
        return TrainingSettings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
