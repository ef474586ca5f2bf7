"""How many answers a workspace may stream right now: one Lua script over a sliding minute in Redis.

chat.startStream and chat.stopStream are Tier 2 (about 20 calls a minute per workspace), shared by
every Sarah process. Each streamed answer costs one start and one stop, so `per_minute` answers a
minute (default 8: 16 calls, with room for stops of streams cut short). Past it the caller sends the
answer as one message, so streaming never limits how many answers Sarah gives. A 429 from Slack
spends the rest of the window at once (`exhausted`), for as long as Slack's Retry-After says.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from redis.asyncio import Redis

from handlers.store.keys import stream_budget_key
from handlers.store.scripts import Script

WINDOW_SECONDS = 60.0
RECOUNT_SECONDS = 1.0  # how long `left` trusts its own count of the passes it let through


class StreamBudget:
    def __init__(self, redis: Redis, *, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._per_minute = per_minute
        self._clock = clock
        self._take = Script(redis, "stream_budget_take")
        self._exhaust = Script(redis, "stream_budget_exhaust")
        self._left = Script(redis, "stream_budget_left")
        # workspace → until when its budget is known to be spent: no start can leave the window
        # before its oldest one does, so until then nobody needs to ask Redis
        self._spent_until: dict[str, float] = {}
        # workspace → [when Redis was last asked, starts then + passes let through since]: in a
        # burst every pass asks at once; only as many as the budget has left may try to start one
        self._counted: dict[str, list[float]] = {}
        self._asking: dict[str, asyncio.Lock] = {}

    @staticmethod
    def key(workspace: str) -> str:
        return stream_budget_key(workspace)

    async def left(self, workspace: str) -> bool:
        """Whether `workspace` has a streamed answer left this minute, spending nothing: past the
        budget the model is asked the cheaper, non-streaming way. Once the budget is found spent,
        Redis is not asked again until the window's oldest start has left it. Passes asking at once
        (a burst) cost one question to Redis a second at most, and only as many as the budget has
        left are let through meanwhile: the others would only find it spent when they try to start."""
        if self._per_minute <= 0:
            return False
        now = self._clock()
        if now < self._spent_until.get(workspace, 0.0):
            return False
        counted = self._counted.get(workspace)
        if counted is None or now - counted[0] > RECOUNT_SECONDS:
            async with self._asking.setdefault(workspace, asyncio.Lock()):  # one asks, the others wait
                counted = self._counted.get(workspace)
                if counted is None or now - counted[0] > RECOUNT_SECONDS:
                    since_ms = int((now - WINDOW_SECONDS) * 1000)
                    count, oldest_ms = await self._left(keys=[self.key(workspace)], args=[since_ms])
                    if int(count) >= self._per_minute:
                        self._spent_until[workspace] = float(oldest_ms) / 1000 + WINDOW_SECONDS
                        return False
                    counted = self._counted[workspace] = [now, float(count)]
        if counted[1] >= self._per_minute:
            return False  # as many passes as the budget allows are trying already
        counted[1] += 1
        return True

    async def take(self, workspace: str) -> bool:
        """Spend one streamed answer of `workspace`'s minute; False when none is left (and then
        `left` knows, without asking Redis, until the window's oldest start has left it)."""
        if self._per_minute <= 0:
            return False
        now_ms = int(self._clock() * 1000)
        window_ms = int(WINDOW_SECONDS * 1000)
        taken, oldest_ms = await self._take(
            keys=[self.key(workspace)], args=[now_ms, window_ms, self._per_minute, uuid.uuid4().hex]
        )
        if not int(taken):
            self._spent_until[workspace] = float(oldest_ms) / 1000 + WINDOW_SECONDS
            return False
        return True

    async def exhausted(self, workspace: str, retry_after: float) -> None:
        """Slack answered 429: stream nothing in `workspace` for `retry_after` seconds."""
        if self._per_minute <= 0:
            return
        pause_ms = int(max(1.0, retry_after) * 1000)
        until_ms = int(self._clock() * 1000) + pause_ms
        await self._exhaust(
            keys=[self.key(workspace)],
            args=[until_ms, int(WINDOW_SECONDS * 1000), self._per_minute, "429:", pause_ms],
        )
