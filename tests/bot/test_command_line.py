"""`sarah <command> --help` explains that command, and messages name the command as it was typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def sarah(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sarah_cli", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["run"], "--env-file"),
        (["chat"], "--env-file"),
        (["doctor"], "--env-file"),
        (["forget"], "--user"),
        (["dead-letters"], "--all"),
        (["train"], "validate"),
        (["train", "finetune"], "--backend"),
    ],
)
def test_each_command_has_its_own_help_with_its_options_and_an_example(
    command: list[str], option: str, tmp_path: Path
) -> None:
    result = sarah(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name = " ".join(command)
    assert result.stdout.startswith(f"usage: sarah {name} ")  # not the top-level help
    assert option in result.stdout
    example = result.stdout.split("example:\n", 1)[1]
    assert f"sarah {name}" in example.splitlines()[0]


def test_the_top_level_help_lists_every_command(tmp_path: Path) -> None:
    result = sarah("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "chat", "doctor", "forget", "dead-letters", "train"):
        assert f"\n    {command} " in result.stdout


def test_messages_and_help_name_the_command_as_it_was_typed(tmp_path: Path) -> None:
    typed = {"SARAH_INVOKED_AS": "scripts/sarah"}  # what scripts/sarah exports
    stopped = sarah(cwd=tmp_path, **typed)  # no tokens, no terminal
    assert stopped.returncode == 0
    assert "`scripts/sarah chat`" in stopped.stderr
    assert sarah("chat", "--help", cwd=tmp_path, **typed).stdout.startswith("usage: scripts/sarah chat ")
    assert "scripts/sarah train validate" in sarah("train", "validate", "--help", cwd=tmp_path, **typed).stdout


def test_a_settings_file_may_be_named_before_or_after_the_command(tmp_path: Path) -> None:
    (tmp_path / "other.env").write_text("SARAH_PORT=http\n")
    for args in (["--env-file", "other.env", "doctor"], ["doctor", "--env-file", "other.env"]):
        result = sarah(*args, cwd=tmp_path)
        assert result.returncode == 2 and "SARAH_PORT: Input should be a valid integer" in result.stderr
