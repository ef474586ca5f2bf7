"""Sarah warns before her model is retired, at start and in `sarah doctor`, and the doctor names
what to fix."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cli.doctor import run_doctor
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


async def _doctor_on(day: date, fake_slack: FakeSlack, fake_openai: FakeOpenAI, model: str = TUNED) -> tuple[int, str]:
    """The doctor's exit code and report on `day`, with a models API that gives no `shutdown_date`."""
    fake_slack.channel_members[SUPPORT_CHANNEL] = [BOT_USER_ID]
    fake_openai.models = {model: {}}
    out = io.StringIO()
    settings = sarah_settings(fake_slack, fake_openai, model={"sarah_model": model})
    code = await run_doctor(settings, REDIS_TEST_URL, out, today=day)
    return code, out.getvalue()


async def test_the_doctor_knows_the_published_retirement_date_when_the_api_gives_none(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    code, report = await _doctor_on(date(2026, 12, 20), fake_slack, fake_openai)
    assert code == 0, report
    assert f"{BASE}, the base of Sarah's model {TUNED}, shuts down on 2027-01-14, in 25 days" in report


async def test_after_the_fine_tuning_closes_the_doctor_still_says_so_and_counts_down_to_the_retirement(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    code, report = await _doctor_on(date(2027, 1, 10), fake_slack, fake_openai)
    assert code == 0, report
    assert "OpenAI stopped taking new fine-tuning jobs on 2027-01-06" in report
    assert "shuts down on 2027-01-14, in 4 days" in report


async def test_after_the_retirement_the_doctor_says_plainly_that_the_model_no_longer_answers(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    code, report = await _doctor_on(date(2027, 2, 1), fake_slack, fake_openai)
    assert code == 1
    assert f"{BASE}, the base of Sarah's model {TUNED}, was shut down on 2027-01-14 and no longer answers" in report
    assert "--backend local" in report


@pytest.mark.parametrize("model", ["ft:gpt-3.5-turbo-0125:zennest::old", "ft:gpt-4.1-nano-2025-04-14:zennest::n1"])
async def test_a_fine_tune_of_a_base_openai_already_retired_is_reported_as_gone(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object, model: str
) -> None:
    code, report = await _doctor_on(date(2026, 12, 6), fake_slack, fake_openai, model)
    assert code == 1
    assert f"the base of Sarah's model {model}, has been retired by OpenAI and no longer answers" in report
