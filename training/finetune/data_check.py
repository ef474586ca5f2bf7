"""The check every `sarah train finetune` run makes before it uploads or trains anything.

A file that `sarah train validate` rejects (a claimed refund, eval leakage, a cut-off conversation,
an empty file) would otherwise be tuned on: billed on OpenAI, and the bot pointed at the result.
"""

from __future__ import annotations

from pathlib import Path

from training.paths import EVAL_FILE
from training.validate import Problem, validate_files

SHOWN_ERRORS = 10


def data_errors(train: Path, valid: Path, *, model: str, eval_path: Path = EVAL_FILE) -> list[Problem]:
    """The errors `sarah train validate` would report for these two files (missing files are the caller's)."""
    files = [path for path in (train, valid) if path.exists()]
    return validate_files(files, model=model, eval_path=eval_path).errors if files else []


def describe_errors(errors: list[Problem], train: Path, valid: Path) -> str:
    """What stops the run: the first errors with `file:line`, and the command that shows them all."""
    lines = [f"The training data has {len(errors)} error(s); nothing was uploaded or trained:"]
    lines += [f"  {p.where}: {p.category}: {p.message}" for p in errors[:SHOWN_ERRORS]]
    if len(errors) > SHOWN_ERRORS:
        lines.append(f"  … and {len(errors) - SHOWN_ERRORS} more")
    lines.append(f"Fix them (see every problem with `sarah train validate {train} {valid}`) and run again.")
    return "\n".join(lines)
