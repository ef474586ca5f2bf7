"""Promises that only a fault would break, each pinned by a test that fails when the fault is planted.

Each of these faults, planted alone, went unnoticed by the rest of the suite: the ingress dedupe off,
the owner re-check before sending skipped, the thread lease never renewed, XACK skipped while XDEL
stays, MAX_MESSAGE_CHARS not passed to the ingress, a good answer resetting the failure count in the
default "total" mode. `tests/faults/plant_promise_faults.sh` plants each in a throwaway copy and
shows the matching test failing (the stuck read loop's is in tests/bot/test_health_tells_the_truth.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from handlers.messages import InboundMessage, ThreadRef
from handlers.store.inbox import GROUP, STREAM
from handlers.store.keys import thread_keys
from sarah_testing.openai_chat import FakeOpenAI, Hold, HttpError, echo_responder, user_lines
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts
from tests.conftest import StartSarah, with_and_without_pause


@pytest.fixture(params=[0.05, 0.0], ids=["pause", "no-pause"])
def start_sarah(start_sarah: StartSarah, request: pytest.FixtureRequest) -> StartSarah:
    """Every test here runs with and without the coalescing pause (see `with_and_without_pause`)."""
    return with_and_without_pause(start_sarah, request)


AGENT = "UAGENT"


def answers_sent(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Every post or edit that carried one of Sarah's answers to `channel` (an edit counts: the
    customer sees the message change, and the model's history gets the answer again)."""
    return [
        params
        for method, params in slack.calls
        if method in ("chat.postMessage", "chat.update")
        and params.get("channel") == channel
        and "Answering" in str(params)
    ]


async def pending_entries(redis: Redis) -> int:
    summary = await redis.xpending(STREAM, GROUP)
    return int(summary["pending"])


async def test_a_retried_event_leaves_one_stream_entry_and_nothing_pending(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(worker={"sarah_role": "ingress"})
    ts = new_ts()
    event = dm("my ZenTherm shows E4", ts=ts)
    assert await slack.event(event, event_id="Ev0RETRY") == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry_num=1) == 200
    assert await slack.event(event, event_id="Ev0RETRY", retry_num=2) == 200
    assert await redis.xlen(STREAM) == 1  # Slack's two retries were dropped at the door

    await start_sarah(worker={"sarah_role": "worker"})
    await fake_slack.wait_for(lambda: answers_sent(fake_slack, "D0CUSTOMER"))
    await _until(lambda: redis.xlen(STREAM), 0)
    assert await pending_entries(redis) == 0
    assert len(answers_sent(fake_slack, "D0CUSTOMER")) == 1
    assert len(fake_openai.requests) == 1


async def test_an_answer_drafted_before_an_agent_took_the_thread_is_never_posted(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    release = asyncio.Event()
    fake_openai.responder = lambda request: Hold(release, echo_responder(request))
    sarah, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my ZenCam is offline", ts=root))
    await eventually(lambda: fake_openai.requests)  # Sarah is drafting; her loading status shows
    assert [s["thread_ts"] for s in fake_slack.statuses if s["status"]] == [root]

    # An agent takes the thread over while the model drafts (a card button or another replica's pass:
    # nothing reaches this thread's queue, so only the owner check right before sending can stop it).
    assert await sarah.parts.handoff.take_over(ThreadRef("C0GENERAL", root), AGENT)
    release.set()

    await fake_slack.wait_for(lambda: any("has joined" in m.body for m in fake_slack.thread("C0GENERAL", root)))
    await asyncio.sleep(0.3)  # a late answer, were one coming, would be posted by now
    bodies = [m.body for m in fake_slack.thread("C0GENERAL", root)]
    assert answers_sent(fake_slack, "C0GENERAL") == []
    assert any("has joined" in body for body in bodies)


async def test_a_model_call_longer_than_the_lease_still_gets_one_answer(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    release = asyncio.Event()
    fake_openai.responder = lambda request: (
        Hold(release, echo_responder(request)) if not release.is_set() else echo_responder(request)
    )
    _, slack = await start_sarah(
        worker={"thread_lease_seconds": 2, "reclaim_idle_seconds": 60},
        model={"model_timeout_seconds": 30},
    )
    root = new_ts()
    await slack.event(mention("my ZenLock jams", ts=root))
    await eventually(lambda: fake_openai.requests)
    await asyncio.sleep(3.0)  # the draft outlasts THREAD_LEASE_SECONDS: only renewal keeps the lease
    await slack.event(channel_message("and it beeps twice", thread_ts=root))
    await _until(lambda: redis.hlen(f"sarah:{{C0GENERAL:{root}}}:queue"), 2)
    await asyncio.sleep(1.0)  # a second worker pass, were the lease lost, would be drafting by now
    release.set()

    await fake_slack.wait_for(lambda: answers_sent(fake_slack, "C0GENERAL"), within=15)
    await _until(lambda: redis.hlen(f"sarah:{{C0GENERAL:{root}}}:queue"), 0)
    await asyncio.sleep(0.5)  # a second answer, were one coming, would be posted by now
    assert fake_openai.most_in_flight == 1  # one draft of the thread at a time
    sent = answers_sent(fake_slack, "C0GENERAL")
    assert len(sent) == 1
    assert "my ZenLock jams | and it beeps twice" in str(sent[0])


async def test_an_answered_message_leaves_nothing_pending_in_the_consumer_group(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    channels = [f"D0CUSTOMER{i}" for i in range(3)]  # three customers, three conversations
    for channel in channels:
        await slack.event(dm("is my ZenHub online?", channel=channel, user="U" + channel[1:], ts=new_ts()))
    await fake_slack.wait_for(lambda: all(answers_sent(fake_slack, channel) for channel in channels))
    await _until(lambda: redis.xlen(STREAM), 0)
    # XDEL alone empties the stream but leaves the ids in the group's pending list, where XAUTOCLAIM
    # and every consumer keep finding them: acknowledged means XPENDING is empty.
    assert await pending_entries(redis) == 0


async def _until(read: Any, expected: int, within: float = 10.0) -> None:
    """Poll a Redis count until it equals `expected` (state no fake announces)."""
    deadline = asyncio.get_running_loop().time() + within
    while (value := int(await read())) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {expected}, still {value} after {within} s")
        await asyncio.sleep(0.02)


async def test_a_max_message_chars_of_its_own_is_what_the_ingress_cuts_to(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah(worker={"sarah_role": "ingress"}, slack={"max_message_chars": 500})
    assert await slack.event(dm("my ZenHub blinks red. " * 40, ts=new_ts())) == 200  # 880 characters
    entries = await redis.xrange(STREAM)
    queued = InboundMessage.from_json(entries[0][1][b"m"])
    assert len(queued.text) <= 500 and queued.cut_from > 500


async def test_in_the_default_total_mode_a_good_answer_does_not_forgive_earlier_failures(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: (
        HttpError(500) if "outage" in user_lines(request)[-1] else echo_responder(request)
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 2})  # HANDOFF_COUNT left at "total"
    root = new_ts()
    state = thread_keys(ThreadRef("D0CUSTOMER", root)).state
    await slack.event(dm("outage one", ts=root))
    await eventually(lambda: any("knowledge" in m.body for m in fake_slack.thread("D0CUSTOMER", root)))
    await slack.event(dm("how do I pair a ZenLock?", thread_ts=root))
    await eventually(lambda: any("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", root)))
    assert await redis.hget(state, "failures") == b"1"  # still counted (a reset comes before the send)
    await slack.event(dm("outage two", thread_ts=root))
    await eventually(lambda: any(m.channel == "C0SUPPORT" for m in fake_slack.messages))  # the second failure hands off
