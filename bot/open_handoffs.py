"""The support team's queue: which hand-offs are open, and what each change of hands means to count.

Every change of a thread's owner goes through `OwnershipStore.transition`, so watching it there
(a subclass built by the runtime) sees claims, take-overs, resolutions and hand-backs from any
process without touching the hand-off logic. Open hand-offs are a sorted set (thread key → time of
the hand-off) beside the threads' own state, read by App Home; the unclaimed ones are a second set,
kept at each change of hands, so the /metrics gauges cost one round trip of a few commands whatever
the length of the queue (App Home, which reads each thread's state, drops what has moved on).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot.metrics import Metrics
from bot.service_watch import ServiceWatch
from handlers import keys
from handlers.messages import ThreadRef
from handlers.ownership import Owner, OwnershipStore, ServiceTimes, Transition
from handlers.thread_store import StoredTurn, ThreadStore, as_text

log = logging.getLogger(__name__)

OPEN = keys.OPEN_HANDOFFS
UNCLAIMED = keys.UNCLAIMED_HANDOFFS
LIST_LIMIT = 200  # the queue shown and measured; more than this means the team has bigger problems


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

    async def entries(self) -> list[OpenHandoff]:
        """Open hand-offs, oldest first; entries whose thread moved on or expired are dropped here."""
        items: Any = await self._redis.zrange(OPEN, 0, LIST_LIMIT - 1, withscores=True)
        result: list[OpenHandoff] = []
        for member, score in items:
            key = as_text(member)
            channel, _, thread_ts = key.partition(":")
            thread = ThreadRef(channel, thread_ts)
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


Listener = Callable[[], Coroutine[Any, Any, None]]


class Listeners:
    """Callbacks run in the background on a change: a change of hands never waits on Slack."""

    def __init__(self) -> None:
        self.callbacks: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def fire(self) -> None:
        for callback in self.callbacks:
            task: asyncio.Task[None] = asyncio.create_task(callback())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


class CardWatchingStore(ThreadStore):
    """A `ThreadStore` that tells `listeners` when a hand-off card is posted (App Home links to it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners = Listeners()
        self.on_card: Callable[[ThreadRef], Awaitable[None]] | None = None  # e.g. the "hand-off opened" event

    async def set_fields(self, thread: ThreadRef, **fields: str | int | float) -> None:
        await super().set_fields(thread, **fields)
        if "card_ts" in fields:
            self.listeners.fire()
            if self.on_card is not None:
                try:
                    await self.on_card(thread)
                except Exception:  # an event lost here must not undo the hand-off
                    log.warning("could not record that a card was posted", exc_info=True)


class WatchedOwnership(OwnershipStore):
    """An `OwnershipStore` that keeps the open hand-offs, counts each change and tells listeners."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int,
        max_turns: int,
        queue: OpenHandoffs,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        service: ServiceWatch | None = None,
    ) -> None:
        super().__init__(redis, ttl_seconds=ttl_seconds, max_turns=max_turns)
        self._queue = queue
        self._metrics = metrics
        self._clock = clock
        self._service = service  # the service-level times, statistics and outgoing events
        self.listeners = Listeners()

    async def transition(
        self,
        thread: ThreadRef,
        *,
        allowed: tuple[Owner, ...],
        to: Owner,
        by: str,
        now: float,
        reset_failures: bool = False,
        turns: tuple[StoredTurn, ...] = (),
        **fields: str | int | float,
    ) -> Transition:
        moved = await super().transition(
            thread, allowed=allowed, to=to, by=by, now=now, reset_failures=reset_failures, turns=turns, **fields
        )
        if moved.changed:
            try:
                await self._record(thread, moved.previous, to, now, str(fields.get("handoff_reason", "")), by)
            except Exception:  # counting must never undo or fail a change of hands
                log.warning("could not record a change of hands", exc_info=True)
        return moved

    async def conversation_unsolved(self, thread: ThreadRef) -> None:
        if self._service is not None:
            try:
                await self._service.unsolved()
            except Exception:
                log.warning("could not count a conversation Sarah did not solve", exc_info=True)

    async def person_answered(self, thread: ThreadRef, by: str, now: float) -> ServiceTimes | None:
        times = await super().person_answered(thread, by, now)
        if self._service is not None and times is not None:
            try:
                await self._service.answered(thread, times, by, now)
            except Exception:
                log.warning("could not record a first response", exc_info=True)
        return times

    async def _record(self, thread: ThreadRef, previous: Owner, to: Owner, now: float, reason: str, by: str) -> None:
        m = self._metrics
        if to is Owner.WAITING:
            await self._queue.opened(thread, now)
            m.handed_off(reason)
            if self._service is not None:
                opened = await self.service_event(thread, "opened", now=now)
                await self._service.opened(thread, opened, now, reason)
        elif to is Owner.HUMAN:
            if previous is not Owner.HUMAN and self._service is not None:
                claimed = await self.service_event(thread, "claimed", by=by, now=now)
                await self._service.claimed(thread, claimed, by, now)
            m.claims.labels(previous.value).inc()
            since = await self._queue.claimed(thread) if previous is Owner.WAITING else None
            if since is not None:
                m.claim_seconds.observe(max(0.0, now - since))
        elif previous in (Owner.WAITING, Owner.HUMAN):  # → RESOLVED or → BOT (handed back)
            since = await self._queue.closed(thread)
            if self._service is not None:
                resolved = to is Owner.RESOLVED
                closed = await self.service_event(thread, "closed", now=now, resolved=resolved)
                await self._service.closed(thread, closed, by, now, resolved=resolved)
            m.resolutions.labels("resolved" if to is Owner.RESOLVED else "handed_back").inc()
            if since is not None:
                m.resolution_seconds.observe(max(0.0, now - since))
        else:
            return  # bot ↔ resolved (a reset, a reopened thread): nothing for the queue
        self.listeners.fire()  # e.g. App Home


async def refresh_queue_gauges(metrics: Metrics, queue: OpenHandoffs, now: float | None = None) -> None:
    """The open and unclaimed hand-off gauges, read at scrape time."""
    now = now or time.time()
    open_count, unclaimed, oldest = await queue.counts(now)
    metrics.open_handoffs.set(open_count)
    metrics.unclaimed_cards.set(unclaimed)
    metrics.oldest_unclaimed_seconds.set(max(0.0, now - oldest) if oldest is not None else 0.0)
