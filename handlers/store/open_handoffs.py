"""The support team's queue in Redis: which hand-offs are open, read by App Home and the /metrics gauges.

Open hand-offs are a sorted set (thread key → time of the hand-off) beside the threads' own state;
the unclaimed ones are a second set, kept at each change of hands, so the gauges cost one round trip
of a few commands whatever the length of the queue (App Home, which reads each thread's state, drops
what has moved on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store import keys
from handlers.store.ownership import Owner
from handlers.store.thread_store import ThreadStore
from handlers.store.values import as_text, parse_thread_key

log = logging.getLogger(__name__)

OPEN = keys.OPEN_HANDOFFS
UNCLAIMED = keys.UNCLAIMED_HANDOFFS
LIST_LIMIT = 200  # the queue shown and measured; more than this means the team has bigger problems


async def open_count(redis: Redis) -> int:
    """How many hand-offs the queue holds (those past the retention included until App Home drops
    them); for a reader with no thread store, like `sarah report`."""
    return int(await redis.zcard(OPEN))


@dataclass(frozen=True, slots=True)
class OpenHandoff:
    thread: ThreadRef
    escalated_at: float
    owner: Owner  # WAITING or HUMAN
    owner_by: str  # the agent who has it (HUMAN)
    owner_at: float
    reason: str
    customer: str
    card_channel: str
    card_ts: str
    first_response_at: float = 0.0  # a person's first answer to the customer (0: not yet)


class OpenHandoffs:
    def __init__(self, redis: Redis, store: ThreadStore, *, ttl_seconds: int = 30 * 86_400) -> None:
        self._redis = redis
        self._store = store
        self._ttl = ttl_seconds  # the conversations' retention: a hand-off older than that has no state left

    async def opened(self, thread: ThreadRef, at: float) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(OPEN, {thread.key: at})
            pipe.zadd(UNCLAIMED, {thread.key: at})
            pipe.expire(OPEN, self._ttl)
            pipe.expire(UNCLAIMED, self._ttl)
            await pipe.execute()

    async def claimed(self, thread: ThreadRef) -> float | None:
        """An agent has the thread: no longer unclaimed. Returns when it was handed off (None: not open)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zscore(OPEN, thread.key)
            pipe.zrem(UNCLAIMED, thread.key)
            replies = await pipe.execute()
        score = replies[0]
        return float(score) if score is not None else None

    async def closed(self, thread: ThreadRef) -> float | None:
        """Forget the hand-off; returns when it was opened (None: it was not in the queue)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zscore(OPEN, thread.key)
            pipe.zrem(OPEN, thread.key)
            pipe.zrem(UNCLAIMED, thread.key)
            replies = await pipe.execute()
        score = replies[0]
        return float(score) if score is not None else None

    async def counts(self, now: float) -> tuple[int, int, float | None]:
        """Open hand-offs, unclaimed ones, and when the oldest unclaimed one was handed off: one round
        trip of three commands, whatever the number of hand-offs. Hand-offs older than the retention
        have no state left and are not counted."""
        since = now - self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcount(OPEN, since, "+inf")
            pipe.zcount(UNCLAIMED, since, "+inf")
            pipe.zrangebyscore(UNCLAIMED, since, "+inf", start=0, num=1, withscores=True)
            open_count, unclaimed, oldest = await pipe.execute()
        return int(open_count), int(unclaimed), float(oldest[0][1]) if oldest else None

    async def size(self) -> int:
        return await open_count(self._redis)

    async def entries(self) -> list[OpenHandoff]:
        """Open hand-offs, oldest first; entries whose thread moved on or expired are dropped here."""
        items: Any = await self._redis.zrange(OPEN, 0, LIST_LIMIT - 1, withscores=True)
        result: list[OpenHandoff] = []
        for member, score in items:
            key = as_text(member)
            thread = parse_thread_key(key)
            state = await self._store.state(thread)
            if state.owner not in (Owner.WAITING, Owner.HUMAN):  # forgotten, expired or moved on
                await self._redis.zrem(OPEN, key)
                await self._redis.zrem(UNCLAIMED, key)
                continue
            result.append(
                OpenHandoff(
                    thread=thread,
                    escalated_at=float(score),
                    owner=state.owner,
                    owner_by=state.owner_by,
                    owner_at=state.owner_at or score,
                    reason=state.handoff_reason,
                    customer=state.customer,
                    card_channel=state.card.channel if state.card else "",
                    card_ts=state.card.ts if state.card else "",
                    first_response_at=state.first_response_at,
                )
            )
        return result
