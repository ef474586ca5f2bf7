"""OpenAI's fine-tuning closes on 2027-01-06: warned from 60 days before, refused from the day itself.

The warning shows at every `--backend openai` run and in `sarah doctor` for a bot on an OpenAI `ft:`
model; the date is injected, so both sides of the window and the day itself are pinned.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cli.doctor import run_doctor
from sarah_model.deadline import deadline_refusal, deadline_warning
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.openai_finetune_server import API_KEY, FakeFineTuningServer
from sarah_testing.slack_api import BOT_USER_ID, FakeSlack
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, sarah_settings
from tests.training.conftest import dataset, write_lines
from training.cli import build_parser
from training.finetune import run_finetune

FIRST_WARNED = date(2026, 11, 7)  # 60 days before 2027-01-06
CLOSING = "OpenAI takes no new fine-tuning jobs from 2027-01-06"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 6), None),
        (FIRST_WARNED, "(in 60 days)"),
        (date(2026, 11, 29), "(in 38 days)"),
        (date(2027, 1, 5), "(tomorrow)"),
        (date(2027, 1, 6), None),  # the day itself is refused, not warned about
    ],
)
def test_the_warning_window(today: date, expected: str | None) -> None:
    warning = deadline_warning(today)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None and CLOSING in warning and expected in warning
        assert "--backend azure" in warning and "--backend local" in warning
    assert (deadline_refusal(today) is not None) == (today >= date(2027, 1, 6))


def _finetune(tmp_path: Path, server: FakeFineTuningServer, monkeypatch: pytest.MonkeyPatch, today: date) -> int:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("POLL_SECONDS", "0.01")
    examples = dataset(3)
    train = write_lines(tmp_path / "train.jsonl", examples[:16])
    valid = write_lines(tmp_path / "valid.jsonl", examples[16:])
    return run_finetune(
        build_parser().parse_args(
            [
                "finetune",
                "--train",
                str(train),
                "--valid",
                str(valid),
                "--out-dir",
                str(tmp_path / "runs"),
                "--env-file",
                str(tmp_path / ".env"),
            ]
        ),
        today=today,
    )


@pytest.mark.parametrize(
    ("today", "warned"), [(date(2026, 11, 6), False), (FIRST_WARNED, True), (date(2026, 11, 29), True)]
)
def test_every_openai_run_in_the_window_warns_and_still_tunes(
    tmp_path: Path,
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    today: date,
    warned: bool,
) -> None:
    assert _finetune(tmp_path, finetune_server, monkeypatch, today) == 0
    out = capsys.readouterr().out
    assert (f"warning: {CLOSING}" in out) is warned
    assert len(finetune_server.jobs) == 1


def test_on_the_day_the_run_is_refused_without_a_job(
    tmp_path: Path,
    finetune_server: FakeFineTuningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    assert _finetune(tmp_path, finetune_server, monkeypatch, date(2027, 1, 6)) == 2
    captured = capsys.readouterr()
    assert "OpenAI stopped taking new fine-tuning jobs on 2027-01-06" in captured.err
    assert CLOSING not in captured.out and finetune_server.jobs == {}


@pytest.mark.parametrize(
    ("today", "model", "warned"),
    [
        (date(2026, 11, 29), "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1", True),
        (date(2026, 11, 6), "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1", False),
        (date(2026, 11, 29), "sarah", False),  # a vLLM adapter: OpenAI's closing does not concern it
    ],
)
async def test_the_doctor_warns_of_the_closing_for_an_openai_fine_tune(
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    redis: object,
    today: date,
    model: str,
    warned: bool,
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [BOT_USER_ID]
    out = io.StringIO()
    settings = sarah_settings(fake_slack, fake_openai, model={"sarah_model": model})
    assert await run_doctor(settings, REDIS_TEST_URL, out, today=today) == 0  # a warning, not a problem
    report = out.getvalue()
    assert (f"warning: {CLOSING}" in report) is warned
    assert ("Model: warning" in report) is warned and ("Model: ok" in report) is not warned
