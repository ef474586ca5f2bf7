"""The hooks of handlers/hooks.py as Sarah runs them: metrics, traces, the support team's numbers, the
service levels and App Home's refreshes.

bot/parts.py builds one of each and hands it to the part that reports to it; the parts call them
where the event happens. Nothing here may fail a pass or a change of hands: what can fail (Redis,
a webhook's queue) is caught and logged. The model's calls are measured by a wrapper around the
model instead (bot/ops/observed_model.py), as the hand-off's summary calls it too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bot.ops.metrics import Metrics
from bot.ops.service_watch import ServiceWatch
from bot.ops.tracing import Tracing, conversation_id
from handlers.hooks import PassSeen
from handlers.messages import ThreadRef
from handlers.store.open_handoffs import OpenHandoffs
from handlers.store.ownership import Owner, OwnershipStore, ServiceTimes
from handlers.store.service_stats import ServiceStats

log = logging.getLogger(__name__)

Refresh = Callable[[], Coroutine[Any, Any, None]]


class PassWatch:
    """The pipeline's hooks: a span and an in-progress count per pass, conversations counted.

    The pass's thread key is put in a context variable for the model call's span
    (gen_ai.conversation.id), read by bot/ops/observed_model.py."""

    def __init__(self, metrics: Metrics, tracing: Tracing, stats: ServiceStats) -> None:
        self._metrics = metrics
        self._tracing = tracing
        self._stats = stats  # the support team's numbers (`sarah report`, the digest)

    @contextmanager
    def around_pass(self, thread: ThreadRef) -> Iterator[PassSeen]:
        with self._metrics.threads_in_progress.track_inprogress():
            if not self._tracing.on:
                yield PassSeen()
                return
            token = conversation_id.set(thread.key)
            try:
                with self._tracing.span("sarah.pass", {"gen_ai.conversation.id": thread.key}) as span:
                    seen = PassSeen()
                    yield seen
                    span.set_attribute("sarah.entries_answered", seen.entries_answered)
            finally:
                conversation_id.reset(token)

    async def conversation_started(self, thread: ThreadRef) -> None:
        self._metrics.conversations.inc()
        await self._stats.conversation_started()


class QueueCounts:
    """The inbox's and the dead letters' hooks: answered entries counted and timed, buried ones counted."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def acknowledged(self, entry_ids: list[str]) -> None:
        self._metrics.passes_done(entry_ids)  # timed from the oldest entry's stream id

    def buried(self, thread_key: str, moved: int) -> None:
        self._metrics.dead_lettered.inc(moved)


class HandoffWatch:
    """The hooks of the thread store (a card posted) and of the ownership store (a change of hands, a
    first answer, an unsolved conversation): what each step of a hand-off means to count.

    Every change of a thread's owner goes through `OwnershipStore.transition`, so this sees claims,
    take-overs, resolutions and hand-backs made by any process. `service_times` records each step's
    time in the thread's state, once per hand-off (a store without hooks: this watch is its hooks);
    `refreshes` (App Home) run in the background after each step.
    """

    def __init__(
        self,
        *,
        service_times: OwnershipStore,
        queue: OpenHandoffs,
        metrics: Metrics,
        service: ServiceWatch,
        refreshes: Sequence[Refresh] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service_times = service_times
        self._queue = queue
        self._metrics = metrics
        self._service = service  # the service-level times, statistics and outgoing events
        self._refreshes = tuple(refreshes)
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def card_posted(self, thread: ThreadRef) -> None:
        self._refresh()  # App Home links to the card
        try:
            await self._service.card_posted(thread, self._clock())  # the "hand-off opened" event
        except Exception:  # an event lost here must not undo the hand-off
            log.warning("could not record that a card was posted", exc_info=True)

    async def hands_changed(
        self, thread: ThreadRef, previous: Owner, to: Owner, *, by: str, now: float, reason: str
    ) -> None:
        try:
            await self._record(thread, previous, to, now, reason, by)
        except Exception:  # counting must never undo or fail a change of hands
            log.warning("could not record a change of hands", exc_info=True)

    async def person_answered(self, thread: ThreadRef, times: ServiceTimes, *, by: str, now: float) -> None:
        try:
            await self._service.answered(thread, times, by, now)
        except Exception:
            log.warning("could not record a first response", exc_info=True)

    async def conversation_unsolved(self, thread: ThreadRef) -> None:
        try:
            await self._service.unsolved()
        except Exception:
            log.warning("could not count a conversation Sarah did not solve", exc_info=True)

    async def _record(self, thread: ThreadRef, previous: Owner, to: Owner, now: float, reason: str, by: str) -> None:
        m, times = self._metrics, self._service_times
        if to is Owner.WAITING:
            await self._queue.opened(thread, now)
            m.handed_off(reason)
            opened = await times.service_event(thread, "opened", now=now)
            await self._service.opened(thread, opened, now, reason)
        elif to is Owner.HUMAN:
            if previous is not Owner.HUMAN:
                claimed = await times.service_event(thread, "claimed", by=by, now=now)
                await self._service.claimed(thread, claimed, by, now)
            m.claims.labels(previous.value).inc()
            since = await self._queue.claimed(thread) if previous is Owner.WAITING else None
            if since is not None:
                m.claim_seconds.observe(max(0.0, now - since))
        elif previous in (Owner.WAITING, Owner.HUMAN):  # → RESOLVED or → BOT (handed back)
            since = await self._queue.closed(thread)
            resolved = to is Owner.RESOLVED
            closed = await times.service_event(thread, "closed", now=now, resolved=resolved)
            await self._service.closed(thread, closed, by, now, resolved=resolved)
            m.resolutions.labels("resolved" if resolved else "handed_back").inc()
            if since is not None:
                m.resolution_seconds.observe(max(0.0, now - since))
        else:
            return  # bot ↔ resolved (a reset, a reopened thread): nothing for the queue
        self._refresh()  # App Home shows the queue

    def _refresh(self) -> None:
        """Run the refreshes in the background: a change of hands never waits on Slack."""
        for refresh in self._refreshes:
            task: asyncio.Task[None] = asyncio.create_task(refresh())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
