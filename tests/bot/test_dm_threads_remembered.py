"""Replies in a DM thread find their conversation without a Redis round trip once it is known,
and the answer is the one Redis gives (the same conversation, whichever process asks)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from redis.asyncio import Redis

from bot.ingress import dm_conversations
from bot.slack_events import CONVERSATION_KEY
from handlers.thread_store import ThreadStore
from sarah_testing.slack_payloads import dm, new_ts


class CountingStore(ThreadStore):
    def __init__(self, redis: Redis) -> None:
        super().__init__(redis, ttl_seconds=3_600, max_turns=50, lease_seconds=5)
        self.thread_lookups = 0

    async def dm_thread_conversation(self, user: str, channel: str, thread_ts: str) -> str | None:
        self.thread_lookups += 1
        return await super().dm_thread_conversation(user, channel, thread_ts)


async def conversation_of(middleware: Any, event: dict[str, Any]) -> str | None:
    async def next_() -> None:
        return None

    body = {"type": "event_callback", "event": event}
    await middleware(body=body, context=SimpleNamespace(bot_user_id="USARAH"), next=next_)
    return event.get(CONVERSATION_KEY)


async def test_replies_in_a_known_dm_thread_cost_no_lookup_and_land_in_its_conversation(redis: Redis) -> None:
    store = CountingStore(redis)
    middleware = dm_conversations(store, remembered=2)
    first, second = new_ts(), new_ts()
    anchor = await conversation_of(middleware, dm("my hub is offline", ts=first))
    assert await conversation_of(middleware, dm("still offline", ts=second)) == anchor  # joins it

    for _ in range(3):
        assert await conversation_of(middleware, dm("any news?", thread_ts=second)) == anchor
    assert store.thread_lookups == 0  # both threads were learnt from their top-level messages

    elsewhere = dm("hello", channel="D0OTHER", user="UOTHER", ts=new_ts())
    await conversation_of(middleware, elsewhere)  # a third thread: the oldest answer is forgotten
    assert await conversation_of(middleware, dm("and now?", thread_ts=first)) == anchor  # asked Redis again
    assert store.thread_lookups == 1


async def test_a_thread_redis_does_not_know_is_asked_about_every_time(redis: Redis) -> None:
    """An assistant thread (no top-level message joined a conversation there) is its own: never
    remembered as such, so a conversation learnt later is found."""
    store = CountingStore(redis)
    middleware = dm_conversations(store)
    orphan = new_ts()
    assert await conversation_of(middleware, dm("hi", thread_ts=orphan)) is None
    assert await conversation_of(middleware, dm("hi again", thread_ts=orphan)) is None
    assert store.thread_lookups == 2
