"""Where the training data ships and where runs go: the defaults of the CLI and of the commands it runs.

A module of its own so a command (e.g. `training.finetune`) can use them without importing the CLI
that imports it.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"  # the data ships inside the package
CONVERSATIONS_DIR = DATA_DIR / "conversations"
TRAIN_FILE = DATA_DIR / "train.jsonl"
VALID_FILE = DATA_DIR / "valid.jsonl"
EVAL_FILE = DATA_DIR / "eval.jsonl"
RUNS_DIR = Path("runs")
CANDIDATES_DIR = DATA_DIR / "candidates"  # harvested from resolved hand-offs, waiting for a person's approval
