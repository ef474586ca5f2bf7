"""The outbox of hand-off events (bot/ops/webhooks.py posts them): at least once, nothing lost.

An event is an entry of the stream `sarah:{webhooks}:stream` plus its due time in a sorted set.
A deliverer claims the due ones for a while (so a crashed one's come back), and each ends either
delivered (`done`: entry, due time and tries removed) or failed (`failed`: tried again later, or
after the last try moved to the dead-letter stream with its error). All four keys share one hash
tag, so each step is one script on one cluster slot.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from handlers.store.keys import WEBHOOK_ATTEMPTS, WEBHOOK_DEAD, WEBHOOK_DUE, WEBHOOK_STREAM
from handlers.store.scripts import Script
from handlers.store.values import as_text

DEAD_LETTERS_KEPT = 10_000  # the oldest events set aside are dropped beyond this


class HandoffEventQueue:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._enqueue = Script(redis, "handoff_events_enqueue")
        self._claim = Script(redis, "handoff_events_claim")
        self._done = Script(redis, "handoff_events_done")
        self._failed = Script(redis, "handoff_events_failed")

    async def enqueue(self, body: str, *, customer: str, at: float) -> str:
        """Queue one event (its JSON `body`), due at once; returns its id. `customer` lets
        `sarah forget` find it."""
        return as_text(await self._enqueue(keys=[WEBHOOK_STREAM, WEBHOOK_DUE], args=[body, customer, at]))

    async def claim_due(self, now: float, *, until: float, limit: int) -> list[str]:
        """The ids of up to `limit` events due by `now`, which no other deliverer takes before `until`."""
        ids = await self._claim(keys=[WEBHOOK_DUE], args=[now, until, limit])
        return [as_text(entry_id) for entry_id in ids]

    async def body(self, entry_id: str) -> bytes | None:
        """The event's JSON body; None when it is gone (forgotten meanwhile)."""
        entries: Any = await self._redis.xrange(WEBHOOK_STREAM, entry_id, entry_id)
        if not entries:
            return None
        fields = {as_text(k): v for k, v in (entries[0][1] or {}).items()}
        body = fields.get("body") or b""
        return body if isinstance(body, bytes) else str(body).encode()

    async def attempts(self, entry_id: str) -> int:
        """How many times the event was tried and not taken."""
        return int(await self._redis.hget(WEBHOOK_ATTEMPTS, entry_id) or 0)

    async def done(self, entry_id: str) -> None:
        """The receiver took the event (or it is gone): nothing of it is kept."""
        await self._done(keys=[WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS], args=[entry_id])

    async def failed(self, entry_id: str, *, max_attempts: int, retry_at: float, error: str) -> int:
        """The receiver did not take it: the tries so far, the event due again at `retry_at`; or,
        after `max_attempts`, minus the tries, the event moved to the dead-letter stream."""
        return int(
            await self._failed(
                keys=[WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS, WEBHOOK_DEAD],
                args=[entry_id, max_attempts, retry_at, error, DEAD_LETTERS_KEPT],
            )
        )
