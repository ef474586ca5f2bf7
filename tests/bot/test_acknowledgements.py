"""Answered stream entries are acknowledged with the worker's next read, in the same round trip:
none is lost to a Redis blip, none stays pending after a clean stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.inbox import GROUP, Inbox
from sarah_testing.redis_process import RedisServer

STREAM = "sarah:{inbox-test}:stream"


def message(n: int) -> InboundMessage:
    return InboundMessage(ThreadRef("D0CUSTOMER", f"1800000000.{n:06d}"), f"1800000000.{n:06d}", "U1", "hi", Kind.DM)


async def pending(redis: Redis) -> int:
    return int((await redis.xpending(STREAM, GROUP))["pending"])


async def test_answered_entries_are_acknowledged_and_deleted_with_the_next_read(redis: Redis) -> None:
    inbox = Inbox(redis, dedupe_ttl_seconds=60, max_length=1000, stream=STREAM)
    await inbox.ensure_group()
    for n in range(3):
        await inbox.put(message(n))
    entries = await inbox.read("worker-1", count=10, block_ms=10)
    inbox.acknowledge_later([entries[0].entry_id, entries[1].entry_id, ""])  # "": queued by the ingress only
    assert await pending(redis) == 3  # nothing sent yet: no round trip of their own

    assert await inbox.read("worker-1", count=10, block_ms=10) == []
    assert await pending(redis) == 1 and await redis.xlen(STREAM) == 1  # acknowledged and deleted

    inbox.acknowledge_later([entries[2].entry_id])
    await inbox.flush_acknowledgements()  # the worker stops: no next read
    assert await pending(redis) == 0 and await redis.xlen(STREAM) == 0


async def test_acknowledgements_survive_a_read_that_fails(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        redis = Redis.from_url(server.url, socket_connect_timeout=1)
        inbox = Inbox(redis, dedupe_ttl_seconds=60, max_length=1000, stream=STREAM)
        await inbox.ensure_group()
        await inbox.put(message(1))
        [entry] = await inbox.read("worker-1", count=10, block_ms=10)
        inbox.acknowledge_later([entry.entry_id])
        await redis.save()  # type: ignore[no-untyped-call]
        server.stop()
        with pytest.raises(RedisConnectionError):
            await inbox.read("worker-1", count=10, block_ms=10)
        server.start()
        assert await pending(redis) == 1  # the outage kept it pending...
        await inbox.read("worker-1", count=10, block_ms=10)
        assert await pending(redis) == 0  # ...and the first read after it acknowledged it
        await redis.aclose()
