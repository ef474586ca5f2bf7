"""Settings of the local LoRA backend (`sarah train finetune --backend local`).

Separate from the OpenAI/Azure settings (`config.training`) because a local run has its own knobs
(base model, LoRA rank, max length…); both read the same `.env`. LOCAL_EPOCHS and LOCAL_SEED fall
back to the shared FINETUNE_EPOCHS and FINETUNE_SEED when unset. A bad value raises `SettingsError`
with one line per variable (`LOCAL_EPOCHS: …`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import SettingsError, describe_validation_error

Device = Literal["auto", "cpu", "cuda"]

DEFAULT_BASE_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
# The adapter ranks vLLM's `--max-lora-rank` accepts: an adapter of another rank trains but cannot be served.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class LocalTrainingSettings(BaseSettings):
    """`LOCAL_*` variables: what to tune, how hard, and where the versioned run folders go."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    local_base_model: str = Field(
        default=DEFAULT_BASE_MODEL,
        min_length=1,
        description="Base model to LoRA-tune: a Hugging Face id or a local folder (a tool-capable instruct model).",
    )
    local_output_dir: Path = Field(
        default=Path("runs/local"), description="Each run gets its own `<suffix>-<UTC time>/` folder under this one."
    )
    # epochs and seed: LOCAL_EPOCHS / LOCAL_SEED if set, else the shared FINETUNE_EPOCHS / FINETUNE_SEED
    local_epochs: int = Field(
        default=3,
        ge=1,
        le=100,
        validation_alias=AliasChoices("local_epochs", "finetune_epochs"),
        description="Training epochs. Unset: FINETUNE_EPOCHS.",
    )
    local_learning_rate: float = Field(default=2e-4, gt=0, le=1, description="Learning rate.")
    local_lora_rank: int = Field(
        default=16,
        description="LoRA rank (on every linear layer): 8, 16, 32, 64, 128, 256, 320 or 512, the ranks vLLM serves.",
    )
    local_lora_alpha: int = Field(default=32, ge=1, le=1024, description="LoRA alpha (scaling).")
    local_lora_dropout: float = Field(default=0.05, ge=0, lt=1, description="LoRA dropout.")
    local_max_length: int = Field(
        default=2048,
        ge=64,
        le=131_072,
        description=(
            "Longest example, in tokens; longer ones are cut and an example with no trained turn left is skipped."
        ),
    )
    local_seed: int = Field(
        default=42,
        ge=0,
        validation_alias=AliasChoices("local_seed", "finetune_seed"),
        description="Seed of the run. Unset: FINETUNE_SEED.",
    )
    local_batch_size: int = Field(
        default=4,
        ge=1,
        le=1024,
        description="Examples per training step (lower it, then LOCAL_MAX_LENGTH, when the GPU runs out of memory).",
    )
    local_device: Device = Field(default="auto", description="auto (CUDA when present, else CPU), cpu or cuda.")

    @field_validator("local_base_model", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("local_lora_rank")
    @classmethod
    def _servable_rank(cls, value: int) -> int:
        if value not in VLLM_LORA_RANKS:
            ranks = ", ".join(map(str, VLLM_LORA_RANKS))
            raise ValueError(f"{value} is not a rank vLLM serves: use one of {ranks}")
        return value

    @field_validator("local_device", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def hyperparameters(self) -> dict[str, Any]:
        """What the model card and the W&B run record about this run."""
        return {
            "base_model": self.local_base_model,
            "epochs": self.local_epochs,
            "learning_rate": self.local_learning_rate,
            "lora_rank": self.local_lora_rank,
            "lora_alpha": self.local_lora_alpha,
            "lora_dropout": self.local_lora_dropout,
            "max_length": self.local_max_length,
            "batch_size": self.local_batch_size,
            "seed": self.local_seed,
        }


def load_local_training_settings(env_file: Path | str | None = ".env", **overrides: Any) -> LocalTrainingSettings:
    """Read the environment (and `env_file`); raise `SettingsError` naming each bad variable."""
    try:
        return LocalTrainingSettings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
