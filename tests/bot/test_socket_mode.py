"""With SLACK_APP_TOKEN set, Sarah dials out over Socket Mode: no public URL, same answers."""

from __future__ import annotations

import pytest

from bot.runtime import Sarah, SlackStartError
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, envelope, new_ts
from tests.conftest import REDIS_TEST_URL, StartSarah, sarah_settings


async def test_a_dm_over_socket_mode_is_acknowledged_and_answered(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    sarah, _ = await start_sarah(slack={"slack_app_token": "xapp-test-token"})
    assert sarah.http_port is None  # nothing listens: Sarah connected out to Slack
    await eventually(lambda: fake_slack.sockets)
    ts = new_ts()
    envelope_id = await fake_slack.push(envelope(dm("hello over the socket", ts=ts)))
    await fake_slack.wait_for(lambda: envelope_id in fake_slack.socket_acks)
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body]
    )
    assert replies[0].body == "Answering: hello over the socket"


async def test_a_token_slack_refuses_stops_sarah_with_a_clear_message(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: object
) -> None:
    fake_slack.token_valid = False
    sarah = Sarah(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL)
    with pytest.raises(SlackStartError, match=r"Slack refused SLACK_BOT_TOKEN \(invalid_auth\)"):
        await sarah.start()
    await sarah.stop()
