"""When to look again at each open hand-off's service-level targets (bot/ops/breaches.py looks).

One entry per open hand-off in a sorted set (thread key → when to look again), popped atomically
by whichever process runs the reminders loop, so each look happens once. What was already posted
is a mark in the thread's own state, set once (HSETNX): two processes never post the same reminder,
and `sarah forget` deletes the marks with the thread.
"""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import BREACH_CHECKS, thread_keys
from handlers.store.scripts import Script
from handlers.store.values import as_text, parse_thread_key


class TargetChecks:
    def __init__(self, redis: Redis, *, ttl_seconds: int = 30 * 86_400) -> None:
        self._redis = redis
        self._ttl = ttl_seconds  # the conversations' retention: no hand-off is looked at after it
        self._pop_due = Script(redis, "reminders_pop_due")

    async def look_at(self, thread: ThreadRef, when: float) -> None:
        """Look at the thread's targets at `when` (instead of any time set before)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(BREACH_CHECKS, {thread.key: when})
            pipe.expire(BREACH_CHECKS, self._ttl)
            await pipe.execute()

    async def forget(self, thread: ThreadRef) -> None:
        """No more looks at this thread (its hand-off closed)."""
        await self._redis.zrem(BREACH_CHECKS, thread.key)

    async def pop_due(self, now: float, limit: int) -> list[ThreadRef]:
        """The threads due a look by `now`, each handed to exactly one caller."""
        due = await self._pop_due(keys=[BREACH_CHECKS], args=[now, limit])
        return [parse_thread_key(as_text(member)) for member in due]

    async def first_to_mark(self, thread: ThreadRef, mark: str, now: float) -> bool:
        """True for the one caller that sets `mark` (`warned_<target>`, `breached_<target>`) on the thread."""
        return bool(await self._redis.hsetnx(thread_keys(thread).state, mark, now))
