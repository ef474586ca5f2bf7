"""The base model, the LoRA config and TRL's `SFTTrainer`, set up from the local settings.

Imported only when a run starts: it pulls in torch, transformers, peft, trl and datasets.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, set_seed
from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]  # lazily exported

from config.training_local import LocalTrainingSettings
from training.local.callbacks import ProgressBridge
from training.progress import Progress

VALID_SAMPLE = 32  # periodic `valid_loss` uses at most this many validation examples, like OpenAI's batch
EVALUATIONS = 10  # about this many periodic evaluations per run


class BaseModelError(RuntimeError):
    """The base model or its tokenizer cannot be loaded (wrong id, offline, no chat template)."""


def pick_device(setting: str) -> str:
    """`cuda` when asked or available, else `cpu`; asking for CUDA without it is an error."""
    if setting == "cuda" and not torch.cuda.is_available():
        raise BaseModelError("LOCAL_DEVICE=cuda but PyTorch sees no CUDA GPU (use auto or cpu)")
    return "cuda" if setting in ("cuda", "auto") and torch.cuda.is_available() else "cpu"


def load_base(name: str, device: str) -> tuple[Any, Any]:
    """Tokenizer and model of LOCAL_BASE_MODEL (a Hugging Face id or a folder)."""
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype)
    except (OSError, ValueError) as error:
        raise BaseModelError(f"LOCAL_BASE_MODEL={name}: cannot load it ({error})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def lora_config(settings: LocalTrainingSettings) -> LoraConfig:
    # all-linear: every projection of every block, whatever the architecture calls them.
    return LoraConfig(
        r=settings.local_lora_rank,
        lora_alpha=settings.local_lora_alpha,
        lora_dropout=settings.local_lora_dropout,
        target_modules="all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )


def build_trainer(
    model: Any,
    tokenizer: Any,
    train_rows: list[dict[str, list[int]]],
    valid_rows: list[dict[str, list[int]]],
    settings: LocalTrainingSettings,
    *,
    device: str,
    work_dir: Path,
    progress: Progress,
) -> tuple[Any, Any]:
    """The trainer and the full validation dataset (for the final `full_valid_loss`)."""
    set_seed(settings.local_seed)  # also seeds the LoRA weights' initialisation
    train = Dataset.from_list(train_rows)
    valid = Dataset.from_list(valid_rows) if valid_rows else None
    sample = valid.shuffle(seed=settings.local_seed).select(range(min(VALID_SAMPLE, len(valid)))) if valid else None
    total_steps = math.ceil(len(train) / settings.local_batch_size) * settings.local_epochs
    config = SFTConfig(
        output_dir=str(work_dir),
        num_train_epochs=settings.local_epochs,
        learning_rate=settings.local_learning_rate,
        per_device_train_batch_size=settings.local_batch_size,
        per_device_eval_batch_size=settings.local_batch_size,
        max_length=settings.local_max_length,
        seed=settings.local_seed,
        data_seed=settings.local_seed,
        use_cpu=device == "cpu",
        bf16=device == "cuda" and torch.cuda.is_bf16_supported(),
        **_checkpointing(device == "cuda"),  # saves GPU memory; only slows a CPU run
        logging_steps=1,
        eval_strategy="steps" if sample is not None else "no",
        eval_steps=max(1, total_steps // EVALUATIONS),
        save_strategy="no",
        report_to="none",  # the W&B run is ours, from the result CSV, as on the OpenAI path
        disable_tqdm=True,  # Progress shows steps, loss and time left instead
        # Our rows already hold truncated input_ids and labels (masking.py): nothing left for TRL to prepare.
        dataset_kwargs={"skip_prepare_dataset": True},
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train,
        eval_dataset=sample,
        processing_class=tokenizer,
        peft_config=lora_config(settings),
        callbacks=[ProgressBridge(progress)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict under the Progress display
    return trainer, valid


def _checkpointing(on: bool) -> dict[str, Any]:
    """transformers 5 renamed `gradient_checkpointing` to `activation_checkpointing`: use the name it has."""
    fields = getattr(SFTConfig, "__dataclass_fields__", {})
    return {"activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing": on}
