"""One result format for every fine-tuning backend: OpenAI's result CSV.

OpenAI's job writes `step,train_loss,train_accuracy,valid_loss,…`; the local LoRA backend writes the
same columns, so the printed losses, the PNG and the W&B run are made by the same code whatever
trained the model. A missing value (OpenAI leaves `valid_loss` empty on most steps) is `None`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_COLUMNS = [
    "step",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
]

LOSS_COLUMNS = ("train_loss", "valid_loss", "full_valid_loss")

# Newer OpenAI result files name the training accuracy differently; read it into our column.
_ALIASES = {"train_mean_token_accuracy": "train_accuracy"}


@dataclass(frozen=True, slots=True)
class FinalLosses:
    """The last reported value of each loss: what the tutorial read off the job page."""

    train_loss: float | None
    valid_loss: float | None
    full_valid_loss: float | None


def write_results_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Write rows with exactly RESULT_COLUMNS (missing values as empty cells)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: _cell(row.get(column)) for column in RESULT_COLUMNS})


def read_results_csv(path: Path | str) -> list[dict[str, Any]]:
    """Rows keyed by RESULT_COLUMNS: `step` an int, the rest floats or None."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return parse_results(handle)


def parse_results(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse result-CSV text (already split into lines); unknown columns are dropped."""
    rows: list[dict[str, Any]] = []
    for raw in csv.DictReader(lines):
        row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
        for key, value in raw.items():
            if key is None:
                continue
            column = _ALIASES.get(key.strip(), key.strip())
            if column in row and row[column] is None:
                row[column] = _number(value)
        if row["step"] is None:
            continue
        row["step"] = int(row["step"])
        rows.append(row)
    return rows


def final_losses(rows: list[dict[str, Any]]) -> FinalLosses:
    """The last non-empty train, valid and full-valid loss."""

    def last(column: str) -> float | None:
        values = [float(row[column]) for row in rows if row.get(column) is not None]
        return values[-1] if values else None

    return FinalLosses(last("train_loss"), last("valid_loss"), last("full_valid_loss"))


def plot_losses(rows: list[dict[str, Any]], png_path: Path) -> Path:
    """Draw the loss curves over steps to a PNG.

    Uses matplotlib's object API (a `Figure` renders with Agg by itself), so no global backend or
    pyplot state is touched and no display is needed.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5))
    axes = figure.subplots()
    for column, style in zip(LOSS_COLUMNS, ("-", "o-", "s--"), strict=True):
        points = [(row["step"], row[column]) for row in rows if row.get(column) is not None]
        if points:
            steps, values = zip(*points, strict=True)
            size = 3 if column == "train_loss" else 6
            axes.plot(steps, values, style, label=column.replace("_", " "), markersize=size)
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title("Sarah fine-tune: loss")
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png_path, dpi=110, bbox_inches="tight")
    return png_path


def log_to_wandb(
    rows: list[dict[str, Any]],
    *,
    project: str,
    name: str,
    config: dict[str, Any],
    entity: str | None = None,
    run_id: str | None = None,
    tags: list[str] | None = None,
    directory: Path | None = None,
) -> Path:
    """Log every row as W&B history and the final losses as summary; return the run's directory.

    The run is ours, not OpenAI's integration's (whose sync calls the W&B API even offline): it is
    offline unless WANDB_MODE says otherwise or an API key is configured, so it works with no account.
    With `run_id`, following the same job again adds to the same run instead of making another one.
    `directory` (else WANDB_DIR, else ./wandb) is where the run's files go.
    """
    import wandb

    mode: Any = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    # wandb keeps the first run's settings for the whole process: pass the directory every time.
    run = wandb.init(
        project=project,
        entity=entity,
        name=name,
        config=config,
        mode=mode,
        reinit="create_new",
        dir=str(directory) if directory is not None else os.environ.get("WANDB_DIR") or None,
        id=run_id,
        resume="allow" if run_id else None,
        tags=tags,
    )
    try:
        for row in rows:
            values = {k: v for k, v in row.items() if k != "step" and v is not None}
            if values:
                run.log(values, step=int(row["step"]))
        finals = final_losses(rows)
        for column in LOSS_COLUMNS:
            value = getattr(finals, column)
            if value is not None:
                run.summary[f"final_{column}"] = value
        run_dir = Path(run.dir).parent
    finally:
        run.finish()
        # finish() can return before the run's file is written; teardown waits for it (and makes
        # the next run read WANDB_DIR afresh). The CLI runs one W&B run at a time, so this is safe.
        wandb.teardown()
    return run_dir


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
