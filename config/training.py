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
    """Read only by `sarah train`; the fine-tune also uses the bot's OPENAI_API_KEY and OPENAI_BASE_URL."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    finetune_backend: Backend = Field(
        default="openai",
        description="Where `sarah train finetune` tunes: openai, azure or local (--backend overrides it).",
    )
    finetune_base_model: str = Field(
        default="gpt-4.1-mini-2025-04-14",
        min_length=1,
        description=(
            "Base model of the OpenAI/Azure fine-tune, and whose tokenizer `sarah train validate` counts with "
            "(--model overrides it)."
        ),
    )
    finetune_epochs: int = Field(
        default=3,
        ge=1,
        le=50,
        description=(
            "Epochs of the OpenAI/Azure fine-tune (--epochs overrides it); the local one's when LOCAL_EPOCHS is unset."
        ),
    )
    finetune_suffix: str = Field(
        default="sarah",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Suffix of the tuned model's name: letters, digits, _ and - (--suffix overrides it).",
    )
    finetune_seed: int = Field(
        default=42,
        ge=0,
        description="Seed of the fine-tune and of `sarah train split`; the local run's when LOCAL_SEED is unset.",
    )
    wandb_project: str | None = Field(
        default=None,
        description=(
            "W&B project: OpenAI's W&B integration when set; Sarah's own run of the results goes here "
            "(else sarah-finetune)."
        ),
    )
    wandb_entity: str | None = Field(
        default=None, description="W&B entity (team or user) of those runs. Unset: your default entity."
    )
    openai_api_key: SecretStr | None = Field(default=None, description="The bot's OpenAI API key, used to fine-tune.")
    openai_base_url: str | None = Field(
        default=None, description="The bot's OpenAI-compatible base URL, used to fine-tune when set."
    )
    redis_url: str | None = Field(
        default=None,
        description="Where `sarah train harvest` and `sarah train gaps` read hand-offs: the bot's REDIS_URL.",
    )
    url_api_key: SecretStr | None = Field(
        default=None,
        description="Key sent to `url:…` model specs (evaluate, judge); OPENAI_API_KEY is never sent to them.",
    )
    azure_openai_endpoint: str | None = Field(
        default=None,
        description="--backend azure: the Azure OpenAI resource's endpoint (https://….openai.azure.com/).",
    )
    azure_openai_api_key: SecretStr | None = Field(default=None, description="--backend azure: the resource's API key.")
    azure_openai_api_version: str = Field(
        default="2025-02-01-preview", min_length=1, description="--backend azure: the API version."
    )
    poll_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="Seconds between checks on an upload or a running job."
    )
    # a paused or stuck job must not keep the command waiting for ever (a week at most)
    finetune_follow_timeout_minutes: float = Field(
        default=1440.0,
        gt=0,
        le=10080,
        description=(
            "Minutes `sarah train finetune` follows a job before it stops and says how to resume "
            "(--follow-timeout overrides it)."
        ),
    )

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
