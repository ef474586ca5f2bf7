"""What Sarah ignores, what she refuses, and what she answers only once."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp

from bot.http_server import build_web_app
from handlers.store.inbox import STREAM
from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, envelope, new_ts, sarahs_own
from tests.conftest import StartSarah


async def answered(fake_slack: FakeSlack, channel: str, ts: str, count: int = 1) -> None:
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.thread(channel, ts)) >= count)


async def test_own_bot_and_edited_messages_are_ignored(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(sarahs_own("I am Sarah"))
    await slack.event(dm("status report", subtype="bot_message", bot_id="BOTHER", username="deploy-bot"))
    await slack.event(dm("posted by an app", bot_id="BOTHER"))
    await slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "D0CUSTOMER",
            "channel_type": "im",
            "ts": new_ts(),
            "message": {"type": "message", "user": "UCUSTOMER", "text": "edited text", "ts": root},
        }
    )
    await slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "D0CUSTOMER",
            "channel_type": "im",
            "ts": new_ts(),
            "deleted_ts": root,
        }
    )
    await slack.event(channel_message("<@UNEW> has joined the channel", thread_ts=None, subtype="channel_join"))
    probe = new_ts()
    await slack.event(dm("a real question", ts=probe))
    await answered(fake_slack, "D0CUSTOMER", probe)
    assert [user_lines(r) for r in fake_openai.requests] == [["a real question"]]


async def test_a_bad_signature_gets_401_and_nothing_is_queued(start_sarah: StartSarah, redis: Redis) -> None:
    _, slack = await start_sarah()
    status = await slack.event(dm("let me in"), secret="not-the-signing-secret")
    assert status == 401
    assert await redis.xlen(STREAM) == 0
    assert await redis.keys("sarah:{inbox}:seen:*") == []


@pytest.mark.parametrize("secret", [None, ""])
async def test_no_slack_endpoint_is_built_without_the_signing_secret(redis: Redis, secret: str | None) -> None:
    bolt = AsyncApp(token="xoxb-test-token", signing_secret="unused", request_verification_enabled=False)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        build_web_app(bolt, redis, signing_secret=secret)


async def test_an_event_retried_by_slack_is_answered_once(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    event = dm("my ZenTherm shows E4", ts=ts)
    assert await slack.event(event, event_id="Ev0RETRY") == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry_num=1) == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry_num=2) == 200
    await answered(fake_slack, "D0CUSTOMER", ts)
    await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
    assert sum("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", ts)) == 1
    assert len(fake_openai.requests) == 1


async def test_a_payload_of_unknown_shape_is_acknowledged(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    _, slack = await start_sarah()
    assert await slack.payload(envelope({"type": "reaction_added", "user": "U1", "reaction": "tada"})) == 200
    assert await slack.payload({"type": "something_new", "surprise": True}) == 200
    probe = new_ts()
    await slack.event(dm("still there?", ts=probe))
    await answered(fake_slack, "D0CUSTOMER", probe)


async def test_a_file_without_text_gets_a_polite_note_that_sarah_reads_text(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(dm("", ts=ts, subtype="file_share", files=[{"id": "F1", "name": "photo.jpg"}]))
    notes = await fake_slack.wait_for(lambda: fake_slack.thread("D0CUSTOMER", ts))
    assert "can only read text" in notes[0].body
    assert fake_openai.requests == []
