"""The per-person "current DM conversation" pointer in Redis: one answer per message, atomic, idle-aware."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.thread_store import ThreadStore

DM = "D0CUSTOMER"
HOUR = 3600.0


def store(redis: Redis) -> ThreadStore:
    return ThreadStore(redis, ttl_seconds=86_400, max_turns=50, lease_seconds=5, dm_idle_seconds=2 * HOUR)


async def test_messages_at_the_same_moment_join_one_conversation(redis: Redis) -> None:
    dms = store(redis)
    stamps = [f"1800000000.{n:06d}" for n in range(1, 21)]
    anchors = await asyncio.gather(*(dms.dm_conversation("UCUSTOMER", DM, ts, 1_800_000_000.0) for ts in stamps))
    assert len(set(anchors)) == 1


async def test_the_same_message_always_maps_to_the_same_conversation(redis: Redis) -> None:
    """The gate and the listener both ask, and Slack retries: the answer never changes."""
    dms = store(redis)
    first = await dms.dm_conversation("UCUSTOMER", DM, "1800000000.000001", 1_800_000_000.0)
    later = await dms.dm_conversation("UCUSTOMER", DM, "1800009000.000001", 1_800_009_000.0)  # after 2.5 h
    assert later != first
    assert await dms.dm_conversation("UCUSTOMER", DM, "1800000000.000001", 1_800_009_001.0) == first


async def test_idle_conversations_end_unless_people_have_them(redis: Redis) -> None:
    dms = store(redis)
    now = 1_800_000_000.0
    first = await dms.dm_conversation("UCUSTOMER", DM, "1800000000.000001", now)
    assert await dms.dm_conversation("UCUSTOMER", DM, "1800003600.000001", now + HOUR) == first  # within 2 h
    await redis.hset(thread_keys(ThreadRef(DM, first)).state, "owner", "waiting")
    assert await dms.dm_conversation("UCUSTOMER", DM, "1800020000.000001", now + 5 * HOUR) == first  # with the team
    await redis.hset(thread_keys(ThreadRef(DM, first)).state, "owner", "resolved")
    fresh = await dms.dm_conversation("UCUSTOMER", DM, "1800040000.000001", now + 11 * HOUR)
    assert fresh == "1800040000.000001"


async def test_people_and_dm_channels_do_not_share_conversations(redis: Redis) -> None:
    dms = store(redis)
    mine = await dms.dm_conversation("UCUSTOMER", DM, "1800000000.000001", 1_800_000_000.0)
    theirs = await dms.dm_conversation("UOTHER", "D0OTHER", "1800000000.000002", 1_800_000_000.0)
    assert mine != theirs
    assert await dms.dm_thread_conversation("UOTHER", DM, mine) is None
    assert await dms.dm_thread_conversation("UCUSTOMER", DM, mine) == mine
