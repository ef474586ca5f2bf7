"""A reply that overtakes its thread's opening @mention (Slack retrying the mention) is held, not lost."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import thread_keys
from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, mention, new_ts
from tests.conftest import StartSarah, with_and_without_pause


@pytest.fixture(params=[0.05, 0.0], ids=["pause", "no-pause"])
def start_sarah(start_sarah: StartSarah, request: pytest.FixtureRequest) -> StartSarah:
    """Every test here runs with and without the coalescing pause (see `with_and_without_pause`)."""
    return with_and_without_pause(start_sarah, request)


async def _until_held(redis: Redis, key: str) -> None:
    """Wait until the worker has held the reply (nothing announces it but Redis)."""
    for _ in range(500):
        if await redis.exists(key):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the reply was not held")


async def test_a_reply_that_arrives_before_its_opening_mention_is_answered_after_it(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root, reply = new_ts(), new_ts()
    assert await slack.event(channel_message("it is the front door one", thread_ts=root, ts=reply)) == 200
    held = thread_keys(ThreadRef("C0GENERAL", root)).held
    await _until_held(redis, held)
    assert fake_openai.requests == [] and not fake_slack.thread("C0GENERAL", root)  # kept, not answered yet

    assert await slack.event(mention("my ZenLock beeps", ts=root), retry_num=1) == 200
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("C0GENERAL", root)))
    assert [user_lines(r) for r in fake_openai.requests] == [["my ZenLock beeps", "it is the front door one"]]


async def test_a_reply_held_longer_than_the_hold_is_dropped_as_not_ours(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah(worker={"hold_unknown_thread_seconds": 0.2})
    root, reply = new_ts(), new_ts()
    await slack.event(channel_message("an old side conversation", thread_ts=root, ts=reply))
    held = thread_keys(ThreadRef("C0GENERAL", root)).held
    await _until_held(redis, held)
    await asyncio.sleep(0.4)  # longer than the hold: the opening message comes too late for it

    await slack.event(mention("hello", ts=root))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("C0GENERAL", root)))
    assert [user_lines(r) for r in fake_openai.requests] == [["hello"]]


async def test_replies_written_before_sarah_was_mentioned_in_the_thread_are_not_hers(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(channel_message("colleagues chatting", thread_ts=root))
    await slack.event(mention("can you help with my ZenHub?", thread_ts=root))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("C0GENERAL", root)))
    assert [user_lines(r) for r in fake_openai.requests] == [["can you help with my ZenHub?"]]


async def test_a_reply_held_too_long_is_dropped_and_logged_when_the_thread_goes_on_without_sarah(
    start_sarah: StartSarah, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    _, slack = await start_sarah(worker={"hold_unknown_thread_seconds": 0.3})
    root, first, second = new_ts(), new_ts(), new_ts()
    held = thread_keys(ThreadRef("C0GENERAL", root)).held
    with caplog.at_level(logging.INFO, logger="handlers.store.thread_store"):
        await slack.event(channel_message("colleagues chatting", thread_ts=root, ts=first))
        await _until_held(redis, held)
        await asyncio.sleep(0.4)  # longer than the hold
        await slack.event(channel_message("still chatting", thread_ts=root, ts=second))
        await eventually(lambda: any("dropped 1 held" in r.getMessage() for r in caplog.records))
    assert [key.decode() for key in await redis.hkeys(held)] == [second]
