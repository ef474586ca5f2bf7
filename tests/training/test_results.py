"""The shared result helpers: what every backend prints, draws and logs."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sarah_testing.wandb_records import read_run
from training.progress import Progress
from training.results import (
    RESULT_COLUMNS,
    final_losses,
    log_to_wandb,
    parse_results,
    plot_losses,
    read_results_csv,
    write_results_csv,
)

OPENAI_CSV = """\
step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,\
full_valid_mean_token_accuracy
1,1.9,0.5,,,,
2,1.4,0.6,1.5,0.55,,
3,0.86,0.7,,,0.74,0.71
"""


def test_openai_csv_round_trips_and_final_losses_are_the_last_reported() -> None:
    rows = parse_results(io.StringIO(OPENAI_CSV))
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[0]["valid_loss"] is None
    finals = final_losses(rows)
    assert (finals.train_loss, finals.valid_loss, finals.full_valid_loss) == (0.86, 1.5, 0.74)


def test_write_then_read_keeps_columns_and_values(tmp_path: Path) -> None:
    rows = [{"step": 1, "train_loss": 2.0}, {"step": 2, "train_loss": 1.0, "valid_loss": 1.2}]
    write_results_csv(rows, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == ",".join(RESULT_COLUMNS)
    back = read_results_csv(tmp_path / "r.csv")
    assert back[1]["valid_loss"] == 1.2 and back[0]["valid_loss"] is None


def test_plot_writes_a_png(tmp_path: Path) -> None:
    png = plot_losses(parse_results(io.StringIO(OPENAI_CSV)), tmp_path / "loss.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_offline_wandb_run_holds_the_losses(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    run_dir = log_to_wandb(parse_results(io.StringIO(OPENAI_CSV)), project="sarah", name="t", config={"e": 3})
    history, summary = read_run(run_dir)
    assert [row["train_loss"] for row in history] == [1.9, 1.4, 0.86]
    assert summary["final_full_valid_loss"] == 0.74


def test_plain_progress_prints_status_events_and_time_left() -> None:
    out = io.StringIO()
    now = [0.0]
    with Progress(stream=out, live=False, clock=lambda: now[0]) as progress:
        progress.status("running")
        progress.status("running")
        progress.event("Step 1/10: training loss=1.2")
        progress.step(1, 10, 1.2)
        now[0] = 30.0
        progress.step(4, 10, 0.9)
    lines = out.getvalue().splitlines()
    assert lines.count("status: running") == 1
    assert "event: Step 1/10: training loss=1.2" in lines
    assert lines[-1] == "step 4/10 · loss 0.9000 · about 1m 00s left"


def test_live_progress_on_a_terminal_draws_a_panel() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with Progress("Tuning", stream=out) as progress:
        progress.status("running")
        progress.event("Fine-tuning job started")
        progress.step(3, 6, 1.2277)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "Tuning" in text and "status: running" in text and "Fine-tuning job started" in text
    assert "step 3/6" in text and "loss 1.2277" in text
