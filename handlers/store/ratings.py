"""The customer's rating of a resolved hand-off, and their one comment on it (bot/slack/ratings.py asks).

Both are fields of the thread's state (`rating_asked`, `rating`, `rated_at`, `rating_comment`),
so `sarah forget` deletes them with the conversation. Each is set once, by the thread's customer
only (HSETNX in a script that checks who is asking): a double tap or a second person changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.scripts import Script
from handlers.store.values import as_text


@dataclass(frozen=True, slots=True)
class Rated:
    """What the thread holds of its rating ("" where nothing is)."""

    customer: str
    rating: str
    comment: str


class RatingStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._rate = Script(redis, "ratings_rate")
        self._comment = Script(redis, "ratings_comment")

    async def asked(self, thread: ThreadRef) -> None:
        """The customer is asked (again, after another resolve): any earlier rating and comment go."""
        state = thread_keys(thread).state
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(state, "rating", "rated_at", "rating_comment")
            pipe.hset(state, "rating_asked", "1")
            await pipe.execute()

    async def rate(self, thread: ThreadRef, user: str, score: int, now: float) -> str:
        """Keep `user`'s score: 'ok', or why not ('not_customer', 'not_asked', 'already')."""
        return as_text(await self._rate(keys=[thread_keys(thread).state], args=[user, score, now]))

    async def rated(self, thread: ThreadRef) -> Rated:
        raw = await self._redis.hmget(thread_keys(thread).state, ["customer", "rating", "rating_comment"])
        customer, rating, comment = (as_text(v) if v is not None else "" for v in raw)
        return Rated(customer, rating, comment)

    async def comment(self, thread: ThreadRef, user: str, text: str) -> str:
        """Keep `user`'s comment: 'ok', or why not ('not_customer', 'not_rated', 'already')."""
        return as_text(await self._comment(keys=[thread_keys(thread).state], args=[user, text]))
