"""A worker that dies after Slack stored its answer and before Redis recorded it: the pass that takes
the thread over finds that answer wherever it went and edits it, never posting a second one, even
when the customer wrote again at the top level of the DM meanwhile, and even when Slack refuses the
lookup for a while (then it waits and looks again: a failed lookup is not "nothing was posted")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.thread_store import ThreadStore
from sarah_testing.openai_chat import FakeOpenAI, long_steps_responder
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import StartSarah

CHANNEL = "D0CUSTOMER"


class Crash(RuntimeError):
    """The process "dies" here: nothing after this line of the pass runs."""


def answers(fake_slack: FakeSlack) -> list[Posted]:
    """Sarah's answers in the customer's DM (a stream counts from its first sentence)."""
    return [m for m in fake_slack.messages if m.channel == CHANNEL and "ZenHub" in m.body]


def crash_once_at_the_commit(monkeypatch: pytest.MonkeyPatch, before_crash: Any = None) -> list[bool]:
    """The first commit of an answer raises after Slack has the answer (the worker dies there)."""
    commit = ThreadStore.commit
    crashed: list[bool] = []

    async def commit_or_crash(self: ThreadStore, thread: ThreadRef, answered: Any, turns: Any, now: float, **kw: Any):  # type: ignore[no-untyped-def]
        if not crashed and any(turn.role == "assistant" for turn in turns):
            crashed.append(True)
            if before_crash is not None:
                await before_crash()
            raise Crash("after Slack stored the answer, before Redis recorded it")
        return await commit(self, thread, answered, turns, now, **kw)

    monkeypatch.setattr(ThreadStore, "commit", commit_or_crash)
    return crashed


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_follow_up_at_the_top_level_does_not_get_the_answer_posted_twice(
    start_sarah: StartSarah,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    streamed: bool,
) -> None:
    fake_openai.responder = long_steps_responder
    senders: list[Any] = []
    follow_up = new_ts()

    async def customer_writes_again() -> None:  # they can see the answer: they go on, in a new top-level DM
        assert await senders[0].event(dm("the app says offline too", ts=follow_up)) == 200

    crashed = crash_once_at_the_commit(monkeypatch, customer_writes_again)
    _, slack = await start_sarah(slack={"stream_answers": streamed})
    senders.append(slack)
    await slack.event(dm("my hub is offline", ts=new_ts()))

    await fake_slack.wait_for(lambda: crashed and any("app says offline" in m.body for m in answers(fake_slack)))
    assert not streamed or fake_slack.streamed_messages()  # the answer really was streamed
    await asyncio.sleep(1.0)  # a second answer, were there one, would be posted by now
    shown = answers(fake_slack)
    assert len(shown) == 1, [m.body for m in shown]  # the answer Slack had, edited to answer both
    assert "my hub is offline" in shown[0].body and "the app says offline too" in shown[0].body


async def test_a_refused_lookup_waits_and_looks_again_instead_of_posting_twice(
    start_sarah: StartSarah,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    redis: Redis,
) -> None:
    fake_openai.responder = long_steps_responder
    crashed = crash_once_at_the_commit(monkeypatch)
    fake_slack.failing.add("conversations.replies")  # as Slack's 1-a-minute limit refuses it
    _, slack = await start_sarah(slack={"stream_answers": False})
    ts = new_ts()
    await slack.event(dm("my hub is offline", ts=ts))

    await fake_slack.wait_for(lambda: crashed and fake_slack.calls_to("conversations.replies"))
    await asyncio.sleep(1.5)  # the failed pass's retries have run by now
    assert len(answers(fake_slack)) == 1  # nothing was posted while it is not known what Slack has

    fake_slack.failing.discard("conversations.replies")  # the limit's minute is over
    key = thread_keys(ThreadRef(CHANNEL, ts)).answered
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("conversations.replies")) >= 2, within=30)
    for _ in range(100):
        if await redis.sismember(key, ts):
            break
        await asyncio.sleep(0.1)
    assert await redis.sismember(key, ts)  # answered and recorded in the end
    assert len(answers(fake_slack)) == 1


@pytest.mark.parametrize("follow_up", [False, True], ids=["alone", "with-a-follow-up"])
async def test_a_crash_mid_stream_leaves_one_answer(
    start_sarah: StartSarah,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    follow_up: bool,
) -> None:
    fake_openai.responder = long_steps_responder
    set_fields = ThreadStore.set_fields
    crashed: list[bool] = []
    senders: list[Any] = []

    async def record_then_crash(self: ThreadStore, thread: ThreadRef, **fields: Any) -> None:
        await set_fields(self, thread, **fields)
        if fields.get("stream_ts") and not crashed:  # the stream is open in Slack and recorded
            crashed.append(True)
            if follow_up:
                assert await senders[0].event(dm("the app says offline too", ts=new_ts())) == 200
            raise Crash("right after the stream started")

    monkeypatch.setattr(ThreadStore, "set_fields", record_then_crash)
    _, slack = await start_sarah(slack={"stream_answers": True})
    senders.append(slack)
    await slack.event(dm("my hub is offline", ts=new_ts()))

    expected = "the app says offline too" if follow_up else "Answering: my hub is offline."
    await fake_slack.wait_for(lambda: crashed and any(expected in m.body for m in answers(fake_slack)))
    await asyncio.sleep(1.0)
    shown = answers(fake_slack)
    assert len(shown) == 1, [m.body for m in shown]
    assert not [m for m in fake_slack.messages if m.channel == CHANNEL and not m.body.strip()]  # no empty stream left
