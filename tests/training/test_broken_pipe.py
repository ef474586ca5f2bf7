"""`sarah train split | head` and `sarah train validate | head`: a reader that goes away ends the
command quietly (exit 141, like any Unix tool), never with a traceback; validate's JSON report is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import dataset, write_lines

ROOT = Path(__file__).resolve().parents[2]


def _run_with_closed_stdout(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `sarah train <args>` with its stdout pipe already closed by the reader, as `| head` does."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "training.cli", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    try:
        err = process.stderr.read().decode()
        return process.wait(timeout=60), err
    finally:
        process.kill()


@pytest.mark.parametrize("command", ["split", "validate"])
def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path: Path, command: str) -> None:
    data = tmp_path / "conversations"
    data.mkdir()
    write_lines(data / "all.jsonl", dataset(3))
    if command == "split":
        args = [
            "split",
            "--input-dir",
            str(data),
            "--train-out",
            str(tmp_path / "t.jsonl"),
            "--valid-out",
            str(tmp_path / "v.jsonl"),
        ]
    else:
        args = ["validate", str(data), "--json-report", str(tmp_path / "report.json")]
    code, err = _run_with_closed_stdout(args, tmp_path)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141
    if command == "split":
        assert (tmp_path / "t.jsonl").exists() and (tmp_path / "v.jsonl").exists()
    else:
        assert (tmp_path / "report.json").exists()
