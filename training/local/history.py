"""The trainer's log history as rows of OpenAI's result CSV (`training.results.RESULT_COLUMNS`).

Same columns as OpenAI's job, so `plot_losses`, `final_losses` and `log_to_wandb` treat both alike:
`train_loss` every step, `valid_loss` at each periodic evaluation on a validation sample, and
`full_valid_loss` once at the end on the whole validation file (as OpenAI reports it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FULL_VALID_PREFIX = "full_valid"

# trainer log key -> result column; the run summary's averaged `train_loss` is deliberately absent.
_COLUMNS = {
    "loss": "train_loss",
    "mean_token_accuracy": "train_accuracy",
    "eval_loss": "valid_loss",
    "eval_mean_token_accuracy": "valid_mean_token_accuracy",
    f"{FULL_VALID_PREFIX}_loss": "full_valid_loss",
    f"{FULL_VALID_PREFIX}_mean_token_accuracy": "full_valid_mean_token_accuracy",
}


def rows_from_log_history(log_history: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per step that logged a loss, ordered by step."""
    rows: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        if "step" not in entry:
            continue
        values = {column: float(entry[key]) for key, column in _COLUMNS.items() if entry.get(key) is not None}
        if values:
            rows.setdefault(int(entry["step"]), {"step": int(entry["step"])}).update(values)
    return [rows[step] for step in sorted(rows)]


def first_train_loss(rows: list[dict[str, Any]]) -> float | None:
    """The loss before the adapter learned much: what "the loss fell" is measured against."""
    return next((float(row["train_loss"]) for row in rows if row.get("train_loss") is not None), None)
