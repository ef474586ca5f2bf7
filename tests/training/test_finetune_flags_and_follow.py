"""`sarah train finetune`: each flag reaches its backend or is refused by name; following a job ends.

Against the fake OpenAI fine-tuning server over HTTP: a job that pauses, is cancelled or never ends
no longer keeps the command waiting for ever, and the message says how to follow it again.
"""

from __future__ import annotations

import argparse
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openai.types.fine_tuning import FineTuningJob

from sarah_testing.openai_finetune_server import API_KEY, FakeFineTuningServer
from tests.training.conftest import dataset, write_lines
from training.cli import build_parser
from training.finetune import run_finetune
from training.finetune.jobs import PAUSED_STATUS, TERMINAL_STATUSES, WAITING_STATUSES

TODAY = date(2026, 10, 1)  # before the closing-date warning window: only what each test looks at is printed


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    examples = dataset(3)
    return (write_lines(tmp_path / "train.jsonl", examples[:16]), write_lines(tmp_path / "valid.jsonl", examples[16:]))


def _args(tmp_path: Path, *flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["finetune", "--env-file", str(tmp_path / ".env"), "--force-promote", *flags])


def _files(data: tuple[Path, Path]) -> list[str]:
    return ["--train", str(data[0]), "--valid", str(data[1])]


def _use(server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("POLL_SECONDS", "0.01")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--backend", "openai", "--merge"], "--merge is not used by --backend openai"),
        (["--backend", "azure", "--merge"], "--merge is not used by --backend azure"),
        (["--backend", "local", "--resume", "ftjob-1"], "--resume is not used by --backend local"),
        (["--backend", "local", "--follow-timeout", "5"], "--follow-timeout is not used by --backend local"),
        (["--resume", "ftjob-1", "--epochs", "4"], "--epochs cannot change job ftjob-1"),
        (
            ["--backend", "azure", "--resume", "ftjob-1", "--model", "gpt-4o", "--train", "t.jsonl"],
            "--model, --train cannot change job ftjob-1",
        ),
        (["--epochs", "0"], "--epochs 0: --backend openai takes 1–50 epochs"),
        (["--backend", "local", "--epochs", "101"], "--epochs 101: --backend local takes 1–100 epochs"),
        (["--suffix", "no spaces"], "--suffix 'no spaces': use letters, digits, _ and -"),
        (["--follow-timeout", "0"], "--follow-timeout 0: give the minutes to wait"),
    ],
)
def test_a_flag_a_backend_cannot_honour_is_refused_by_name_before_any_call(
    tmp_path: Path,
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    flags: list[str],
    message: str,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, *flags), today=TODAY) == 2
    assert capsys.readouterr().err.startswith(message)
    assert finetune_server.requests == []


def test_the_flags_reach_the_openai_job_and_the_output_folder(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(finetune_server, monkeypatch, FINETUNE_EPOCHS="3", FINETUNE_SUFFIX="fromenv")
    out_dir = tmp_path / "elsewhere"
    flags = [
        *_files(data),
        "--epochs",
        "7",
        "--suffix",
        "flagged",
        "--model",
        "gpt-4o-mini-2024-07-18",
        "--out-dir",
        str(out_dir),
    ]
    assert run_finetune(_args(tmp_path, *flags), today=TODAY) == 0
    (job,) = finetune_server.jobs.values()
    assert job.params["method"]["supervised"]["hyperparameters"]["n_epochs"] == 7
    assert job.params["suffix"] == "flagged" and job.params["model"] == "gpt-4o-mini-2024-07-18"
    assert (out_dir / job.id / "loss.png").exists() and (out_dir / "upload" / "train.jsonl").exists()
    assert (tmp_path / ".env").read_text() == f"SARAH_MODEL={job.fine_tuned_model}\n"


def test_every_job_status_the_sdk_knows_is_handled() -> None:
    (statuses,) = [typing.get_args(a) for a in [FineTuningJob.model_fields["status"].annotation]]
    assert set(statuses) <= WAITING_STATUSES | TERMINAL_STATUSES | {PAUSED_STATUS}


@pytest.mark.parametrize("backend", ["openai", "azure"])
def test_a_paused_job_stops_the_following_and_says_how_to_go_on(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    backend: str,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.stuck_at = "paused"
    (tmp_path / ".env").write_text("SARAH_MODEL=old-model\n")
    assert run_finetune(_args(tmp_path, "--backend", backend, *_files(data)), today=TODAY) == 1
    (job,) = finetune_server.jobs.values()
    out = capsys.readouterr().out
    flag = " --backend azure" if backend == "azure" else ""
    assert f"Job {job.id} is paused" in out and f"sarah train finetune{flag} --resume {job.id}" in out
    assert (tmp_path / ".env").read_text() == "SARAH_MODEL=old-model\n"


@pytest.mark.parametrize("status", ["cancelled", "failed"])
def test_a_job_that_ends_without_a_model_keeps_the_old_one(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    status: str,
) -> None:
    _use(finetune_server, monkeypatch)
    finetune_server.stuck_at = status
    assert run_finetune(_args(tmp_path, *_files(data)), today=TODAY) == 1
    (job,) = finetune_server.jobs.values()
    assert f"Job {job.id} {status}." in capsys.readouterr().out
    assert not (tmp_path / ".env").exists()


def test_following_gives_up_after_the_flags_timeout_naming_the_job(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch, POLL_SECONDS="30")
    finetune_server.stuck_at = "running"
    args = _args(tmp_path, *_files(data), "--follow-timeout", "2")  # minutes: four waits of 30 s
    assert run_finetune(args, today=TODAY, sleep=lambda _: None) == 1
    (job,) = finetune_server.jobs.values()
    err = capsys.readouterr().err
    assert f"Job {job.id} is still running after 2 minutes" in err
    assert f"sarah train finetune --resume {job.id}" in err and "Traceback" not in err
    assert job.retrieves == 5  # it stopped after four waits, it did not poll on


def test_the_follow_timeout_setting_applies_to_azure_too(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch, POLL_SECONDS="60", FINETUNE_FOLLOW_TIMEOUT_MINUTES="3")
    finetune_server.stuck_at = "queued"
    assert run_finetune(_args(tmp_path, "--backend", "azure", *_files(data)), today=TODAY, sleep=lambda _: None) == 1
    (job,) = finetune_server.jobs.values()
    err = capsys.readouterr().err
    assert f"Job {job.id} is still queued after 3 minutes" in err
    assert f"sarah train finetune --backend azure --resume {job.id}" in err


def test_with_openais_wandb_integration_our_run_is_named_apart_and_linked(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    from sarah_testing.wandb_records import read_run_with_config

    _use(finetune_server, monkeypatch, WANDB_PROJECT="sarah-ft")
    assert run_finetune(_args(tmp_path, *_files(data)), today=TODAY) == 0
    (job,) = finetune_server.jobs.values()
    assert job.params["integrations"][0]["type"] == "wandb"  # OpenAI's run: named after the job
    (run_dir,) = _wandb_dirs(capsys.readouterr().out)
    assert run_dir.name.endswith(f"-{job.id}-results")  # ours: the run id, never the job id alone
    _, _, config = read_run_with_config(run_dir)
    assert config["openai_wandb_run"] == job.id and config["job_id"] == job.id


def test_following_a_job_again_updates_the_same_wandb_run(
    tmp_path: Path,
    data: tuple[Path, Path],
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    _use(finetune_server, monkeypatch)
    assert run_finetune(_args(tmp_path, *_files(data)), today=TODAY) == 0
    (job,) = finetune_server.jobs.values()
    assert run_finetune(_args(tmp_path, "--resume", job.id), today=TODAY) == 0
    first, again = _wandb_dirs(capsys.readouterr().out)
    # the run's id is in its file's name: run-<id>.wandb (the folder gets "-1" added by W&B when both
    # runs start in the same second)
    run_ids = [
        [f.name.removeprefix("run-").removesuffix(".wandb") for f in d.glob("run-*.wandb")] for d in (first, again)
    ]
    assert run_ids == [[job.id], [job.id]]  # one run id, resumed


def _wandb_dirs(out: str) -> list[Path]:
    return [Path(x.removeprefix("W&B run: ")) for x in out.splitlines() if x.startswith("W&B run: ")]
