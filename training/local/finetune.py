"""`sarah train finetune --backend local`: LoRA-tune an open-weight chat model on Sarah's data.

One call does the whole run and leaves a versioned folder `LOCAL_OUTPUT_DIR/sarah-<UTC time>/`:
`adapter/` (LoRA weights + tokenizer: what vLLM mounts), `results.csv` and `loss.png` (the OpenAI
path's format), `model_card.md`/`.json`, optionally `merged/` (full weights) and `wandb/`, the W&B
run (kept in the folder, so one folder is the whole record of one run). The folder's prefix is the
name vLLM serves the adapter under (`--lora-modules <name>=…`, FINETUNE_SUFFIX, "sarah"). The
heavy libraries are imported here, inside the function, so `import training.local` stays cheap.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.training_local import LocalTrainingSettings
from training.local.card import library_versions, write_model_card
from training.local.data import load_examples, sha256_of
from training.local.history import FULL_VALID_PREFIX, first_train_loss, rows_from_log_history
from training.progress import Progress
from training.results import FinalLosses, final_losses, log_to_wandb, plot_losses, write_results_csv


class LocalFinetuneError(RuntimeError):
    """The run cannot start or finish; the message says what to change."""


@dataclass(frozen=True, slots=True)
class LocalFinetuneResult:
    output_dir: Path
    adapter_dir: Path
    csv_path: Path
    png_path: Path
    card_path: Path
    losses: FinalLosses
    first_train_loss: float | None
    merged_dir: Path | None = None
    wandb_dir: Path | None = None

    def __str__(self) -> str:
        def fmt(value: float | None) -> str:
            return "—" if value is None else f"{value:.4f}"

        return (
            f"{self.output_dir} (adapter: {self.adapter_dir.name}/; train loss {fmt(self.first_train_loss)} → "
            f"{fmt(self.losses.train_loss)}, full valid loss {fmt(self.losses.full_valid_loss)})"
        )


def run_local_finetune(
    train_path: Path,
    valid_path: Path,
    settings: LocalTrainingSettings,
    progress: Progress,
    *,
    merge: bool = False,
    wandb_project: str | None = None,
    wandb_entity: str | None = None,
    served_name: str = "sarah",
) -> LocalFinetuneResult:
    """Tune, evaluate, save and record one run; raise LocalFinetuneError on a setup problem."""
    from training.local.quiet import quiet_progress_bars

    with quiet_progress_bars():
        return _run(
            train_path,
            valid_path,
            settings,
            progress,
            merge=merge,
            wandb_project=wandb_project,
            wandb_entity=wandb_entity,
            served_name=served_name,
        )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything a run needs before training starts: the model, its tokenizer and the token rows."""

    device: str
    tokenizer: Any
    model: Any
    masking: Any  # masking.Masking
    train: Any  # masking.Tokenized
    valid: Any


def _run(
    train_path: Path,
    valid_path: Path,
    settings: LocalTrainingSettings,
    progress: Progress,
    *,
    merge: bool,
    wandb_project: str | None,
    wandb_entity: str | None = None,
    served_name: str = "sarah",
) -> LocalFinetuneResult:
    started, clock = datetime.now(UTC), time.monotonic()
    prepared = _prepare(train_path, valid_path, settings, progress)
    run_dir = _new_run_dir(settings.local_output_dir, started, served_name)
    try:
        trainer = _train(prepared, settings, run_dir, progress)
    except BaseException as error:  # nothing usable was made: leave no half-made run folder behind
        shutil.rmtree(run_dir, ignore_errors=True)
        if type(error).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError
            raise LocalFinetuneError(
                "the GPU ran out of memory: lower LOCAL_BATCH_SIZE, then LOCAL_MAX_LENGTH, "
                "or pick a smaller LOCAL_BASE_MODEL"
            ) from None
        raise

    progress.status("saving")
    adapter_dir = run_dir / "adapter"
    trainer.model.save_pretrained(adapter_dir)
    prepared.tokenizer.save_pretrained(adapter_dir)
    rows = rows_from_log_history(trainer.state.log_history)
    csv_path, png_path = run_dir / "results.csv", run_dir / "loss.png"
    write_results_csv(rows, csv_path)
    plot_losses(rows, png_path)
    losses, first = final_losses(rows), first_train_loss(rows)
    card: dict[str, Any] = {
        "name": run_dir.name,
        "served_name": served_name,
        "created_at": started.isoformat(timespec="seconds"),
        "backend": "local-lora",
        "base_model": settings.local_base_model,
        "device": prepared.device,
        "steps": int(trainer.state.global_step),
        "duration_seconds": round(time.monotonic() - clock, 1),
        "loss_masking": prepared.masking.method,
        "data": {
            "train": _data_entry(train_path, len(prepared.train.rows)),
            "valid": _data_entry(valid_path, len(prepared.valid.rows)),
        },
        "excluded_turns_weight_0": prepared.train.excluded_turns + prepared.valid.excluded_turns,
        "hyperparameters": {**settings.hyperparameters(), "target_modules": "all-linear"},
        "losses": {
            "first_train_loss": first,
            "train_loss": losses.train_loss,
            "valid_loss": losses.valid_loss,
            "full_valid_loss": losses.full_valid_loss,
        },
        "library_versions": library_versions(),
    }
    merged_dir = _merge(trainer.model, prepared.tokenizer, run_dir / "merged", progress) if merge else None
    wandb_dir = None
    if wandb_project:
        progress.status("logging to Weights & Biases")
        wandb_dir = log_to_wandb(
            rows,
            project=wandb_project,
            name=run_dir.name,
            entity=wandb_entity,
            config={**card["hyperparameters"], "backend": "local", "data": card["data"]},
            run_id=run_dir.name,
            directory=run_dir,
        )
        card["wandb_run_dir"] = str(wandb_dir)
    _, card_md = write_model_card(card, run_dir)
    progress.status("done")
    return LocalFinetuneResult(
        output_dir=run_dir,
        adapter_dir=adapter_dir,
        csv_path=csv_path,
        png_path=png_path,
        card_path=card_md,
        losses=losses,
        first_train_loss=first,
        merged_dir=merged_dir,
        wandb_dir=wandb_dir,
    )


def _prepare(train_path: Path, valid_path: Path, settings: LocalTrainingSettings, progress: Progress) -> _Prepared:
    """Read and tokenize the data with the base model's template; every setup problem is one sentence."""
    from training.local.masking import choose_masking, tokenize_examples
    from training.local.trainer import BaseModelError, load_base, pick_device

    progress.status("reading the data")
    try:
        train_examples, valid_examples = load_examples(train_path), load_examples(valid_path)
        device = pick_device(settings.local_device)
        progress.status(f"loading {settings.local_base_model} on {device}")
        tokenizer, model = load_base(settings.local_base_model, device)
        masking = choose_masking(tokenizer)
        train = tokenize_examples(tokenizer, train_examples, masking, settings.local_max_length)
        valid = tokenize_examples(tokenizer, valid_examples, masking, settings.local_max_length)
    except (BaseModelError, ValueError) as error:
        raise LocalFinetuneError(str(error)) from None
    progress.event(f"loss on assistant turns only, found through {masking.describe()}")
    if not train.rows:
        raise LocalFinetuneError(
            f"{train_path}: no example has an assistant turn to learn within "
            f"LOCAL_MAX_LENGTH={settings.local_max_length} tokens"
        )
    if train.dropped or valid.dropped:
        progress.event(
            f"{train.dropped + valid.dropped} examples skipped: no trained turn within "
            f"LOCAL_MAX_LENGTH={settings.local_max_length}"
        )
    return _Prepared(device, tokenizer, model, masking, train, valid)


def _train(prepared: _Prepared, settings: LocalTrainingSettings, run_dir: Path, progress: Progress) -> Any:
    """Train, then measure the whole validation file once (OpenAI's `full_valid_loss`)."""
    from training.local.trainer import build_trainer

    trainer, full_valid = build_trainer(
        prepared.model,
        prepared.tokenizer,
        prepared.train.rows,
        prepared.valid.rows,
        settings,
        device=prepared.device,
        work_dir=run_dir / "checkpoints",
        progress=progress,
    )
    trainer.train()
    if full_valid is not None:
        progress.status("evaluating on the whole validation file")
        trainer.evaluate(full_valid, metric_key_prefix=FULL_VALID_PREFIX)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return trainer


def _new_run_dir(root: Path, started: datetime, prefix: str = "sarah") -> Path:
    """`sarah-20261125T021500Z`, with a counter if two runs start in the same second."""
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1000):
        path = root / (f"{prefix}-{stamp}" if attempt == 0 else f"{prefix}-{stamp}-{attempt}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise LocalFinetuneError(f"cannot make a new run folder under {root}")


def _data_entry(path: Path, examples: int) -> dict[str, Any]:
    return {"path": str(path), "sha256": sha256_of(path), "examples": examples}


def _merge(peft_model: Any, tokenizer: Any, folder: Path, progress: Progress) -> Path:
    """Full weights with the adapter folded in: for engines or runtimes without LoRA support."""
    progress.status("merging the adapter into the base weights")
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
