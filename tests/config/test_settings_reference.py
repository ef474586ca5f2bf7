"""The settings reference an admin reads (docs/settings.md) is the one the code would print today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.reference import COMMAND, missing_descriptions, render
from config.settings import SETTINGS_GROUPS
from config.training import TrainingSettings
from config.training_local import LocalTrainingSettings

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "docs" / "settings.md"


def test_docs_settings_md_is_what_the_command_prints_today() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), f"docs/settings.md is stale: run `{COMMAND}`"


def test_every_setting_says_what_it_does() -> None:
    assert missing_descriptions() == [], "add description= to these settings' Field, then run " + COMMAND


def test_the_reference_names_every_setting_with_its_default_and_group() -> None:
    text = render()
    for group in [*SETTINGS_GROUPS.values(), TrainingSettings, LocalTrainingSettings]:
        for name in group.model_fields:
            assert f"| `{name.upper()}` |" in text
    handoff = text.split("## Hand-off", 1)[1].split("\n## ", 1)[0]
    assert "| `HANDOFF_AFTER_FAILURES` | `3` | a whole number from 1 to 100 | Failures after which" in handoff
    assert "| `SUPPORT_CHANNEL` | unset |" in handoff


def test_a_pipe_in_a_default_does_not_break_the_table() -> None:
    row = next(line for line in render().splitlines() if line.startswith("| `SUGGESTED_PROMPTS` |"))
    assert "Set up my ZenHub\\|Why is my camera offline?\\|Talk to a person" in row
    assert row.replace("\\|", "").count("|") == 5  # four cells


def test_the_reference_never_shows_the_environment() -> None:
    secret = "sk-not-for-the-docs"
    env = {**os.environ, "HANDOFF_AFTER_FAILURES": "7", "OPENAI_API_KEY": secret, "PYTHONPATH": str(ROOT)}
    printed = subprocess.run(
        [sys.executable, "-m", "config.reference"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert printed == render()
    assert secret not in printed and "| `HANDOFF_AFTER_FAILURES` | `3` |" in printed
