"""What each change of hands means to count, and the App Home refreshes it sets off.

Every change of a thread's owner goes through `OwnershipStore.transition`, so watching it there
(a subclass built by the runtime) sees claims, take-overs, resolutions and hand-backs from any
process without touching the hand-off logic; the queue itself is `handlers/store/open_handoffs.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis

from bot.ops.metrics import Metrics
from bot.ops.service_watch import ServiceWatch
from handlers.messages import ThreadRef
from handlers.store.open_handoffs import OpenHandoffs
from handlers.store.ownership import Owner, OwnershipStore, ServiceTimes, Transition
from handlers.store.thread_store import ThreadStore
from handlers.store.values import StoredTurn

log = logging.getLogger(__name__)

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
