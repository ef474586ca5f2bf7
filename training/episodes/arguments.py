"""The flags of `sarah train episodes` and `sarah train gate` (kept apart so building the parser stays light)."""

from __future__ import annotations

import argparse
from pathlib import Path

from training.paths import DATA_DIR, RUNS_DIR

SCENARIOS_FILE = DATA_DIR / "scenarios.jsonl"


def add_arguments(episodes: argparse.ArgumentParser, gate: argparse.ArgumentParser) -> None:
    for parser in (episodes, gate):
        parser.add_argument(
            "--scenarios", type=Path, default=SCENARIOS_FILE, help="default training/data/scenarios.jsonl"
        )
        parser.add_argument("--tries", type=int, default=3, help="tries per scenario, for pass^k (default 3)")
        parser.add_argument("--limit", type=int, default=None, help="only the first N scenarios")
        parser.add_argument(
            "--simulator",
            metavar="URL#MODEL",
            default=None,
            help="an OpenAI-compatible model plays the customer (key: SIMULATOR_API_KEY); default: scripted",
        )
    episodes.add_argument(
        "--model",
        action="append",
        metavar="SPEC",
        help="offline | openai:<model> | url:<base_url>#<model> | local:<dir> (repeat to compare; default offline)",
    )
    episodes.add_argument("--judge", metavar="URL#MODEL", default=None, help="an LLM judge (key: JUDGE_API_KEY)")
    episodes.add_argument("--report", type=Path, default=RUNS_DIR / "episodes.md")
    episodes.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    gate.add_argument("--candidate", required=True, metavar="SPEC", help="the model to promote")
    gate.add_argument(
        "--current", metavar="SPEC", default=None, help="default: SARAH_MODEL as configured, else offline"
    )
    gate.add_argument("--env-file", type=Path, default=Path(".env"), help="where SARAH_MODEL is recorded")
    gate.add_argument(
        "--force-promote", action="store_true", help="record the candidate even if the gate refuses it (says so)"
    )
