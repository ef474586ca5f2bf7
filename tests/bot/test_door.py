"""The ingress's Redis work for a message: one round trip on one server, the same outcome the
cluster's step-by-step way gives, and a DM always in the conversation Redis says, whichever
process guessed what."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.slack.events import classify
from handlers.messages import InboundMessage, ThreadRef
from handlers.store.front_door import Admitted, Counting, Door
from handlers.store.inbox import Inbox
from handlers.store.keys import rate_key
from handlers.store.limits import Limits, Verdict
from handlers.store.scripts import CallMismatch, ScriptCall
from handlers.store.thread_store import ThreadStore
from sarah_testing.redis_process import RedisServer
from sarah_testing.slack_api import BOT_USER_ID
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts

IDLE = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def door_for(redis: Redis, clock: Clock, *, one_script: bool = True, per_minute: int = 100) -> Door:
    store = ThreadStore(redis, ttl_seconds=86_400, max_turns=50, lease_seconds=5, dm_idle_seconds=IDLE)
    return Door(
        redis,
        inbox=Inbox(redis, dedupe_ttl_seconds=3_600, max_length=10_000),
        store=store,
        limits=Limits(redis, messages_per_minute=per_minute, max_open_threads=5, index_ttl_seconds=86_400),
        clock=clock,
        one_script=one_script,
    )


def message(event: dict[str, Any]) -> InboundMessage:
    found = classify(event, BOT_USER_ID)
    assert isinstance(found, InboundMessage), found
    return found


async def queued_in(redis: Redis, thread: ThreadRef) -> set[str]:
    """The ts of the messages waiting in a conversation's queue."""
    store = ThreadStore(redis, ttl_seconds=60, max_turns=50, lease_seconds=5)
    return {p.message.ts for p in await store.pending(thread)}


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[Redis]:
    """A redis-server of this test's own, so that its read events are this test's alone."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = Redis.from_url(server.url)
    try:
        yield client
    finally:
        await client.aclose()
        server.stop(kill=True)


async def round_trips(redis: Redis, action: Callable[[], Any]) -> int:
    """The requests the server read while `action` ran: one per round trip, whatever it held."""

    async def reads() -> int:
        return int((await redis.info("stats"))["total_reads_processed"])

    before = await reads()
    await action()
    return await reads() - before - 1  # the second INFO is a read of its own


async def test_every_kind_of_message_costs_one_round_trip_at_the_door(private_redis: Redis) -> None:
    redis, clock = private_redis, Clock()
    door = door_for(redis, clock)
    await door.admit(message(dm("warm-up: the script is loaded once", user="UWARM", channel="D0WARM")), Counting.COUNT)

    first = dm("my hub is offline")
    opened = message(first)
    later_top = dm("still offline")
    in_thread = dm("any news?", thread_ts=later_top["ts"])
    assistant_thread = dm("hello", thread_ts=new_ts(), channel="D0ASSIST", user="UASSIST")
    top_mention = mention("is the hub down?")
    ours = channel_message("it blinks red", thread_ts=top_mention["ts"], channel="C0GENERAL")
    not_ours = channel_message("lunch?", thread_ts=new_ts(), channel="C0GENERAL")
    cases = [
        (first, Counting.COUNT, opened.thread),
        (later_top, Counting.COUNT, opened.thread),  # joins the conversation it opened
        (in_thread, Counting.COUNT, opened.thread),  # a reply under Sarah's answer: the same conversation
        (assistant_thread, Counting.COUNT, message(assistant_thread).thread),  # its own conversation
        (top_mention, Counting.COUNT, message(top_mention).thread),
        (ours, Counting.IF_OURS, message(top_mention).thread),
        (not_ours, Counting.IF_OURS, None),  # in the stream, held aside: the worker drops it
    ]
    cases_typed: list[tuple[dict[str, Any], Counting, ThreadRef | None]] = cases
    for event, counting, conversation in cases_typed:
        admitted: list[Admitted] = []

        async def admit(
            event: dict[str, Any] = event, counting: Counting = counting, into: list[Admitted] = admitted
        ) -> None:
            into.append(await door.admit(message(event), counting))

        assert await round_trips(redis, admit) == 1, event["text"]
        assert admitted[0].verdict is Verdict.OK and admitted[0].queued
        if conversation is not None:
            assert admitted[0].message.thread.key == conversation.key, event["text"]
            assert event["ts"] in await queued_in(redis, conversation), event["text"]
    assert await redis.xlen("sarah:{inbox}:stream") == len(cases) + 1


@pytest.mark.parametrize("one_script", [True, False], ids=["one server", "cluster's way"])
async def test_a_wrong_guess_still_lands_in_the_conversation_redis_keeps(redis: Redis, one_script: bool) -> None:
    """Two ingress processes: one of them opens a new conversation after the old went idle; the
    other, which last saw the old one, still queues the next message in the new one."""
    clock = Clock()
    a, b = door_for(redis, clock, one_script=one_script), door_for(redis, clock, one_script=one_script)
    old = await a.admit(message(dm("my hub is offline")), Counting.COUNT)
    clock.now += IDLE + 60
    new = await b.admit(message(dm("a new question: the app crashes")), Counting.COUNT)
    assert new.message.thread.key != old.message.thread.key  # idle: a fresh conversation

    clock.now += 5
    late = message(dm("it crashes on start"))
    admitted = await a.admit(late, Counting.COUNT)

    assert admitted.message.thread.key == new.message.thread.key
    assert late.ts in await queued_in(redis, new.message.thread)
    assert late.ts not in await queued_in(redis, old.message.thread)
    minute = rate_key("UCUSTOMER", int(clock.now // 60))
    assert await redis.hget(minute, "n") == b"2"  # the two messages of this minute, each counted once


@pytest.mark.parametrize("one_script", [True, False], ids=["one server", "cluster's way"])
async def test_a_message_over_the_limit_is_not_queued_and_a_retry_is_not_counted(
    redis: Redis, one_script: bool
) -> None:
    door = door_for(redis, Clock(), one_script=one_script, per_minute=2)
    verdicts = [(await door.admit(message(dm(f"message {n}")), Counting.COUNT)).verdict for n in range(4)]
    assert verdicts == [Verdict.OK, Verdict.OK, Verdict.TOO_FAST, Verdict.QUIET]  # told once a minute
    assert await redis.xlen("sarah:{inbox}:stream") == 2

    retried = message(dm("Slack's retry of a message it could not deliver"))
    admitted = await door.admit(retried, Counting.SKIP)
    assert admitted.verdict is Verdict.OK and admitted.queued
    again = await door.admit(retried, Counting.SKIP)
    assert again.verdict is Verdict.OK and not again.queued  # seen: not queued twice
    assert await redis.xlen("sarah:{inbox}:stream") == 3


@pytest.mark.parametrize("one_script", [True, False], ids=["one server", "cluster's way"])
async def test_replies_in_threads_sarah_is_not_part_of_are_never_counted(redis: Redis, one_script: bool) -> None:
    door = door_for(redis, Clock(), one_script=one_script, per_minute=1)
    for n in range(3):
        chatter = message(channel_message(f"lunch {n}?", thread_ts=new_ts(), channel="C0GENERAL"))
        assert (await door.admit(chatter, Counting.IF_OURS)).verdict is Verdict.OK
    thread = message(mention("is the hub down?"))
    assert (await door.admit(thread, Counting.COUNT)).verdict is Verdict.OK  # the person's first counted
    reply = message(channel_message("it blinks", thread_ts=thread.ts, channel="C0GENERAL"))
    assert (await door.admit(reply, Counting.IF_OURS)).verdict is Verdict.TOO_FAST  # Sarah's thread: counted


class LimitsOneArgumentOver(Limits):
    """Limits whose call gives its script one argument more than the script's header declares."""

    def check_call(self, user: str, thread_key: str, *, opens_thread: bool, now: float, size: int = 0) -> ScriptCall:
        call = super().check_call(user, thread_key, opens_thread=opens_thread, now=now, size=size)
        return ScriptCall(call.script, call.keys, [*call.args, "0"])


@pytest.mark.parametrize("one_script", [True, False], ids=["one server", "cluster's way"])
async def test_a_step_whose_call_disagrees_with_its_script_is_refused_before_anything_is_written(
    redis: Redis, one_script: bool
) -> None:
    """The door's one script finds each step's KEYS and ARGV by the counts the steps' scripts
    declare: a call that gives a step more than that would shift every step after it."""
    store = ThreadStore(redis, ttl_seconds=86_400, max_turns=50, lease_seconds=5)
    inbox = Inbox(redis, dedupe_ttl_seconds=3_600, max_length=10_000)
    limits = LimitsOneArgumentOver(redis, messages_per_minute=100, max_open_threads=5, index_ttl_seconds=86_400)
    door = Door(redis, inbox=inbox, store=store, limits=limits, clock=Clock(), one_script=one_script)
    with pytest.raises(CallMismatch, match=r"limits_check\.lua takes .* this call gives 3 KEYS and 11 ARGV"):
        await door.admit(message(mention("is the hub down?")), Counting.COUNT)
    assert await redis.dbsize() == 0


async def test_a_dm_thread_the_process_forgot_is_still_found(private_redis: Redis) -> None:
    """The process remembers a bounded number of DM threads; one it forgot still lands in its
    conversation, for one round trip more (the script finds the guess wrong, and says why)."""
    redis, clock = private_redis, Clock()
    store = ThreadStore(redis, ttl_seconds=86_400, max_turns=50, lease_seconds=5)
    inbox = Inbox(redis, dedupe_ttl_seconds=3_600, max_length=10_000)
    limits = Limits(redis, messages_per_minute=100, max_open_threads=50, index_ttl_seconds=86_400)
    door = Door(redis, inbox=inbox, store=store, limits=limits, clock=clock, remembered=2)
    opened = await door.admit(message(dm("my hub is offline")), Counting.COUNT)
    later = message(dm("still offline"))
    await door.admit(later, Counting.COUNT)
    for n in range(3):  # three other people push both answers out of the process's memory
        await door.admit(message(dm("hi", user=f"UOTHER{n}", channel=f"D0OTHER{n}")), Counting.COUNT)

    reply = message(dm("any news?", thread_ts=later.ts))
    trips = await round_trips(redis, lambda: door.admit(reply, Counting.COUNT))

    assert trips == 2
    assert reply.ts in await queued_in(redis, opened.message.thread)


async def test_the_door_survives_redis_forgetting_its_script(redis: Redis) -> None:
    """After a Redis restart or SCRIPT FLUSH the one script is loaded again, and nothing is lost."""
    door = door_for(redis, Clock())
    first = await door.admit(message(dm("my hub is offline")), Counting.COUNT)
    await redis.script_flush()
    later = message(dm("still offline"))
    admitted = await door.admit(later, Counting.COUNT)
    assert admitted.verdict is Verdict.OK and admitted.queued
    assert later.ts in await queued_in(redis, first.message.thread)


async def test_a_reply_under_a_conversations_first_message_costs_one_round_trip_on_any_process(
    private_redis: Redis,
) -> None:
    """With several ingress processes a reply often reaches one that never saw the conversation's
    first message: the thread of that message is the conversation's own, so the guess holds."""
    redis, clock = private_redis, Clock()
    seen, other = door_for(redis, clock), door_for(redis, clock)
    await other.admit(message(dm("warm-up: the script is loaded once", user="UWARM", channel="D0WARM")), Counting.COUNT)
    opened = await seen.admit(message(dm("my hub is offline")), Counting.COUNT)
    reply = message(dm("any news?", thread_ts=opened.message.ts))

    admitted: list[Admitted] = []

    async def admit() -> None:
        admitted.append(await other.admit(reply, Counting.COUNT))

    assert await round_trips(redis, admit) == 1
    assert admitted[0].message.thread.key == opened.message.thread.key
    assert reply.ts in await queued_in(redis, opened.message.thread)
