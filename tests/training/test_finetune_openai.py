"""`sarah train finetune` against a fake OpenAI over HTTP: from the data files to SARAH_MODEL in .env."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.openai_chat import FakeOpenAI, ToolCall
from sarah_testing.openai_finetune_server import API_KEY, FINAL_LOSSES, FakeFineTuningServer
from sarah_testing.wandb_records import read_run, read_run_with_config
from tests.training.conftest import dataset, write_lines
from training.cli import build_parser
from training.finetune import LOCAL_EXTRA_MESSAGE, run_finetune

TODAY = date(2026, 11, 25)


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    examples = dataset(3)
    return (write_lines(tmp_path / "train.jsonl", examples[:16]), write_lines(tmp_path / "valid.jsonl", examples[16:]))


def _args(tmp_path: Path, data: tuple[Path, Path], *extra: str, gate: bool = False) -> argparse.Namespace:
    """The command's arguments; without `gate`, --force-promote (the gate has tests of its own)."""
    train, valid = data
    files = [] if "--resume" in extra else ["--train", str(train), "--valid", str(valid)]  # a job has its files
    return build_parser().parse_args(
        [
            "finetune",
            *files,
            "--out-dir",
            str(tmp_path / "runs"),
            "--env-file",
            str(tmp_path / ".env"),
            *(() if gate else ("--force-promote",)),
            *extra,
        ]
    )


def _use(server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("POLL_SECONDS", "0.01")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_whole_flow_tunes_prints_losses_and_points_the_bot_at_the_new_model(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(
        finetune_server,
        monkeypatch,
        FINETUNE_EPOCHS="4",
        FINETUNE_SUFFIX="zen",
        FINETUNE_SEED="7",
        WANDB_PROJECT="sarah-ft",
        WANDB_ENTITY="zennest",
    )
    (tmp_path / ".env").write_text("# Sarah\nSLACK_BOT_TOKEN=xoxb-1\nSARAH_MODEL=old-model\nLOG_LEVEL=INFO\n")

    assert run_finetune(_args(tmp_path, data), today=TODAY) == 0
    out = capsys.readouterr().out

    uploads = [f for f in finetune_server.files.values() if f.purpose == "fine-tune"]
    assert len(uploads) == 2
    for upload in uploads:
        lines = [json.loads(x) for x in upload.content.decode().splitlines()]
        assert lines and all("objective" not in x and "messages" in x for x in lines)
    assert sorted(len(u.content.decode().splitlines()) for u in uploads) == [5, 16]
    sent = {u.filename: u.content for u in uploads}
    assert sent == {name: (tmp_path / "runs" / "upload" / name).read_bytes() for name in ("train.jsonl", "valid.jsonl")}

    (job,) = finetune_server.jobs.values()
    assert job.params["model"] == "gpt-4.1-mini-2025-04-14"
    assert job.params["suffix"] == "zen" and job.params["seed"] == 7
    assert job.params["method"]["supervised"]["hyperparameters"]["n_epochs"] == 4
    assert job.params["integrations"] == [{"type": "wandb", "wandb": {"project": "sarah-ft", "entity": "zennest"}}]
    assert job.params["validation_file"] in finetune_server.files

    train_loss, valid_loss, full_valid_loss = FINAL_LOSSES
    assert f"Training loss:             {train_loss:.4f}" in out
    assert f"Validation loss:           {valid_loss:.4f}" in out
    assert f"Full validation loss:      {full_valid_loss:.4f}" in out
    assert "status: running" in out and "Fine-tuning job started" in out and "step 6/6" in out

    png = tmp_path / "runs" / job.id / "loss.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    env = (tmp_path / ".env").read_text().splitlines()
    assert env == ["# Sarah", "SLACK_BOT_TOKEN=xoxb-1", f"SARAH_MODEL={job.fine_tuned_model}", "LOG_LEVEL=INFO"]

    (run_dir,) = [Path(x.removeprefix("W&B run: ")) for x in out.splitlines() if x.startswith("W&B run: ")]
    assert run_dir.is_relative_to(tmp_path / "wandb-dir")
    history, summary = read_run(run_dir)
    assert [row["train_loss"] for row in history][-1] == train_loss
    assert summary["final_valid_loss"] == valid_loss and summary["final_full_valid_loss"] == full_valid_loss


def test_resume_follows_an_existing_job_without_uploading(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 0
    (job,) = finetune_server.jobs.values()
    (tmp_path / ".env").unlink()
    files_before = len(finetune_server.files)

    assert run_finetune(_args(tmp_path, data, "--resume", job.id), today=TODAY) == 0
    assert len(finetune_server.files) == files_before and len(finetune_server.jobs) == 1
    assert (tmp_path / ".env").read_text() == f"SARAH_MODEL={job.fine_tuned_model}\n"
    assert f"Full validation loss:      {FINAL_LOSSES[2]:.4f}" in capsys.readouterr().out


def test_a_base_model_past_its_shutdown_date_is_refused_before_any_upload(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.add_model("gpt-4.1-mini-2025-04-14", shutdown_date="2026-10-01")
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 2
    err = capsys.readouterr().err
    assert "2026-10-01" in err and "--backend azure" in err and "--backend local" in err
    assert finetune_server.files == {} and finetune_server.jobs == {}


def test_a_unix_timestamp_shutdown_date_within_60_days_warns_and_goes_on(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.add_model("gpt-4.1-mini-2025-04-14", shutdown_date=1_799_884_800)  # 2027-01-14
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 0
    assert "warning: gpt-4.1-mini-2025-04-14 shuts down on 2027-01-14, in 50 days" in capsys.readouterr().out


def test_an_unknown_base_model_is_refused(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, data, "--model", "gpt-3.5-turbo-0125"), today=TODAY) == 2
    assert "does not offer gpt-3.5-turbo-0125" in capsys.readouterr().err


def test_no_openai_job_after_openai_closes_fine_tuning(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, data), today=date(2027, 1, 6)) == 2
    assert "OpenAI stopped taking new fine-tuning jobs on 2027-01-06" in capsys.readouterr().err
    assert finetune_server.jobs == {}


def test_a_wrong_key_gets_one_sentence_without_the_key(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch, OPENAI_API_KEY="sk-wrong-secret-key-123456")
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "The API refused the key: check OPENAI_API_KEY."
    assert "sk-wrong" not in captured.out + captured.err


def test_resuming_an_unknown_job_says_so(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, data, "--resume", "ftjob-nope"), today=TODAY) == 1
    assert capsys.readouterr().err.strip() == "Not found: Could not find fine-tune job: ftjob-nope."


def test_an_unreachable_server_is_one_sentence(
    tmp_path: Path,
    data: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the discard port: nothing listens
    monkeypatch.setattr("training.finetune.openai_backend.CLIENT_TIMEOUT_SECONDS", 2.0)
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 1
    assert "Could not reach the API: check OPENAI_BASE_URL" in capsys.readouterr().err


def test_a_failed_job_reports_its_reason_and_keeps_the_old_model(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.fail_jobs = True
    (tmp_path / ".env").write_text("SARAH_MODEL=old-model\n")
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 1
    assert "failed: The job failed: training file too small." in capsys.readouterr().out
    assert (tmp_path / ".env").read_text() == "SARAH_MODEL=old-model\n"


def test_the_local_backend_without_its_extra_names_the_extra(
    tmp_path: Path,
    data: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "training.local", None)  # as if the extra were not installed
    assert run_finetune(_args(tmp_path, data, "--backend", "local"), today=TODAY) == 2
    assert capsys.readouterr().err.strip() == LOCAL_EXTRA_MESSAGE


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (429, "rate_limit_exceeded", "Slow down.", "The API is rate-limiting us: wait a minute, then try again."),
        (
            429,
            "insufficient_quota",
            "You exceeded your quota.",
            "The account has no quota left: add credit to it, then try again.",
        ),
        (
            400,
            "invalid_request_error",
            "suffix may not contain sk-abcdef1234567890",
            "The API rejected the request: suffix may not contain [redacted].",
        ),
    ],
)
def test_api_errors_at_job_creation_are_one_sentence(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    status: int,
    code: str,
    message: str,
    expected: str,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.fail_with("POST", "/fine_tuning/jobs", status, code, message, times=3)
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == expected
    assert "Traceback" not in captured.out + captured.err


def test_the_wandb_run_records_what_a_resumed_job_ran_with(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch, FINETUNE_EPOCHS="5", FINETUNE_SEED="9")
    assert run_finetune(_args(tmp_path, data), today=TODAY) == 0
    (job,) = finetune_server.jobs.values()
    capsys.readouterr()
    monkeypatch.setenv("FINETUNE_EPOCHS", "2")  # the settings changed since; the record must not
    assert run_finetune(_args(tmp_path, data, "--resume", job.id), today=TODAY) == 0
    out = capsys.readouterr().out
    (run_dir,) = [Path(x.removeprefix("W&B run: ")) for x in out.splitlines() if x.startswith("W&B run: ")]
    _, _, config = read_run_with_config(run_dir)
    assert config == {
        "backend": "openai",
        "base_model": "gpt-4.1-mini-2025-04-14",
        "epochs": 5,
        "suffix": "sarah",
        "seed": 9,
        "job_id": job.id,
        "fine_tuned_model": job.fine_tuned_model,
    }


def test_missing_split_files_are_refused_before_any_call(
    tmp_path: Path,
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    missing = (tmp_path / "nope-train.jsonl", tmp_path / "nope-valid.jsonl")
    assert run_finetune(_args(tmp_path, missing), today=TODAY) == 2
    assert capsys.readouterr().err.strip() == f"{missing[0]} does not exist: run `sarah train split` first."
    assert finetune_server.requests == []


def test_the_closing_date_is_refused_even_without_a_key(
    tmp_path: Path,
    data: tuple[Path, Path],
    capsys: Any,
) -> None:
    assert run_finetune(_args(tmp_path, data), today=date(2027, 2, 1)) == 2
    assert "OpenAI stopped taking new fine-tuning jobs on 2027-01-06" in capsys.readouterr().err


def test_a_new_model_worse_than_the_current_one_is_not_recorded(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answers(request: dict[str, Any]) -> Any:  # the new model claims what it cannot do
        if request["model"].startswith("ft:"):
            return "I've reset your hub and refunded your plan. All done!"
        return ToolCall("unknown_answer")  # the current one hands every question to a person

    finetune_server.chat = FakeOpenAI(answers)
    _use(finetune_server, monkeypatch)
    (tmp_path / ".env").write_text("SARAH_MODEL=current-model\n")

    assert run_finetune(_args(tmp_path, data, "--gate-tries", "1", gate=True), today=TODAY) == 1
    out = capsys.readouterr().out
    assert "Promotion gate:" in out and "invented actions" in out
    assert "Not promoted: SARAH_MODEL" in out
    assert (tmp_path / ".env").read_text() == "SARAH_MODEL=current-model\n"
