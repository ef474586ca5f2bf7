"""Sarah warns before her model is retired, at start and in `sarah doctor`, and the doctor names
what to fix."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.doctor import run_doctor
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.server import eventually
from sarah_testing.slack_api import BOT_USER_ID, FakeSlack
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah, sarah_settings

TUNED = "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1"
BASE = "gpt-4.1-mini-2025-04-14"


def in_days(days: int) -> int:
    return int((datetime.now(UTC) + timedelta(days=days)).timestamp())


async def test_the_doctor_warns_of_a_base_model_retiring_within_60_days(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [BOT_USER_ID]
    fake_openai.models = {TUNED: {}, BASE: {"shutdown_date": in_days(50)}}
    out = io.StringIO()
    code = await run_doctor(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL, out)
    report = out.getvalue()
    assert code == 0, report
    assert f"{BASE}, the base of Sarah's model {TUNED}, shuts down on" in report
    assert "--backend azure" in report and "Redis: ok" in report and "Slack: ok" in report


async def test_the_doctor_says_plainly_when_the_model_is_gone_and_sarah_is_not_in_the_channel(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    fake_openai.models = {TUNED: {"shutdown_date": "2026-01-14"}}
    out = io.StringIO()
    code = await run_doctor(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL, out)
    report = out.getvalue()
    assert code == 1
    assert "was shut down on 2026-01-14 and no longer answers" in report
    assert f"Sarah is not a member of SUPPORT_CHANNEL {SUPPORT_CHANNEL}" in report


async def test_a_server_without_shutdown_dates_is_fine(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [BOT_USER_ID]
    out = io.StringIO()  # no models endpoint answers (404): like many OpenAI-compatible servers
    before_the_closing_warning = date(2026, 10, 1)  # from 2026-11-07 an ft: model also gets OpenAI's closing date
    assert (
        await run_doctor(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL, out, today=before_the_closing_warning)
        == 0
    )
    assert "Model: ok" in out.getvalue()


async def test_sarah_logs_the_retirement_warning_at_start(
    start_sarah: StartSarah, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.models = {TUNED: {"shutdown_date": in_days(10)}}
    with caplog.at_level(logging.WARNING):
        await start_sarah()
        await eventually(lambda: "model retirement" in caplog.text)
    assert f"Sarah's model {TUNED} shuts down on" in caplog.text
