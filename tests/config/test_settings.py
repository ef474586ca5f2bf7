"""A wrong setting stops Sarah with a message that names the variable, and never shows a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import SettingsError, SlackMode, load_settings


def problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    return str(caught.value)


def test_each_wrong_value_is_named_with_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, SARAH_PORT="99999", MODEL_TIMEOUT_SECONDS="soon", REDIS_URL="localhost:6379")
    assert "SARAH_PORT: Input should be less than or equal to 65535" in message
    assert "MODEL_TIMEOUT_SECONDS: Input should be a valid number" in message
    assert "REDIS_URL: must start with redis://, rediss:// or unix://" in message


def test_a_wrong_token_is_named_and_its_value_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, SLACK_BOT_TOKEN="xoxp-user-token-secret-123", SLACK_SIGNING_SECRET="s")
    assert "SLACK_BOT_TOKEN: must be a bot token starting with 'xoxb-'" in message
    assert "secret-123" not in message


def test_http_mode_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "SLACK_SIGNING_SECRET: is required in HTTP mode" in problems(monkeypatch, SLACK_BOT_TOKEN="xoxb-1")


def test_slack_needs_a_support_channel_given_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    assert "SUPPORT_CHANNEL: is required with Slack" in message
    message = problems(monkeypatch, SUPPORT_CHANNEL="#support")
    assert "SUPPORT_CHANNEL: must be a channel id like C0123ABCD" in message


def test_the_reclaim_time_must_outlast_the_thread_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, THREAD_LEASE_SECONDS="30", RECLAIM_IDLE_SECONDS="20")
    assert "RECLAIM_IDLE_SECONDS: must be longer than THREAD_LEASE_SECONDS" in message


def test_every_rule_that_spans_two_groups_is_reported_in_one_round(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        TEXT_AGENT_JOINED="An agent joined.",
        THREAD_LEASE_SECONDS="30",
        RECLAIM_IDLE_SECONDS="20",
    )
    assert "SUPPORT_CHANNEL: is required with Slack" in message
    assert "TEXT_AGENT_JOINED: must contain {agent}" in message
    assert "RECLAIM_IDLE_SECONDS: must be longer than THREAD_LEASE_SECONDS" in message


def test_problems_of_every_group_and_the_rules_between_them_come_in_one_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = problems(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",  # HTTP mode: needs SLACK_SIGNING_SECRET and SUPPORT_CHANNEL, has neither
        SARAH_PORT="99999",  # a wrong value in the same group as the missing secret
        MODEL_TIMEOUT_SECONDS="soon",
        REDIS_CLUSTER="true",  # a cluster with no REDIS_URL
        TEXT_AGENT_JOINED="An agent joined.",
    )
    for expected in (
        "SLACK_SIGNING_SECRET: is required in HTTP mode",
        "SUPPORT_CHANNEL: is required with Slack",
        "SARAH_PORT: Input should be less than or equal to 65535",
        "MODEL_TIMEOUT_SECONDS: Input should be a valid number",
        "REDIS_CLUSTER: needs REDIS_URL",
        "TEXT_AGENT_JOINED: must contain {agent}",
    ):
        assert expected in message


def test_a_rule_is_not_judged_on_a_value_that_was_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, THREAD_LEASE_SECONDS="long", RECLAIM_IDLE_SECONDS="10")
    assert "THREAD_LEASE_SECONDS: Input should be a valid number" in message
    assert "must be longer than THREAD_LEASE_SECONDS" not in message  # 10 s against the default lease


def test_the_mode_follows_the_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).slack.mode is SlackMode.LOCAL
    monkeypatch.setenv("SUPPORT_CHANNEL", "C0SUPPORT")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    assert load_settings(None).slack.mode is SlackMode.HTTP
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    settings = load_settings(None)
    assert settings.slack.mode is SlackMode.SOCKET
    assert "xoxb-1" not in repr(settings)


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / "sarah.env"
    env.write_text("SARAH_MODEL=ft:gpt-4o-mini-2024-07-18:zennest::abc\nHANDOFF_UNUSED=1\n")
    assert load_settings(env).model.sarah_model == "ft:gpt-4o-mini-2024-07-18:zennest::abc"


def test_the_sarah_command_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SARAH_PORT": "http", "PYTHONPATH": str(Path(__file__).parents[2])},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "SARAH_PORT: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_support_hours_that_do_not_parse_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, SUPPORT_HOURS="9 to 5", SUPPORT_TIMEZONE="Mars/Olympus", SUPPORT_DAYS="weekdays")
    assert "SUPPORT_HOURS: '9 to 5' is not a span of hours: write it like 09:00-17:30" in message
    assert "SUPPORT_TIMEZONE: 'Mars/Olympus' is not a time zone" in message
    assert "SUPPORT_DAYS: 'weekdays' is not a day" in message


def test_a_target_of_zero_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, FIRST_RESPONSE_TARGET_MINUTES="0", SUPPORT_DAYS_OFF="25/12/2026")
    assert "FIRST_RESPONSE_TARGET_MINUTES: Input should be greater than 0" in message
    assert "SUPPORT_DAYS_OFF: '25/12/2026' is not a date: write days off as YYYY-MM-DD" in message


def test_a_weekly_digest_time_that_does_not_parse_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problems(monkeypatch, WEEKLY_DIGEST="mondays at nine")
    assert "WEEKLY_DIGEST: 'mondays at nine' is not a day and a time: write it like mon 09:00" in message
