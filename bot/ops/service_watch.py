"""What each step of a hand-off means for the team's numbers: metrics, the stored statistics, and
(when configured) the hand-off events sent out to a ticketing system.

`HandoffWatch` (bot/ops/observers.py) records the step's times in the thread's state in one script,
then tells this object what it saw. Nothing here may fail a change of hands: the caller
logs and carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.ops.breaches import Breaches
from bot.ops.metrics import Metrics
from handlers.messages import ThreadRef
from handlers.service_levels import Target, Targets
from handlers.store.ownership import ServiceTimes
from handlers.store.service_stats import ClosedHandoff, ServiceStats


class EventSink(Protocol):
    """Where hand-off events go out (bot/ops/webhooks.py); `by` is a Slack user id or "sarah"."""

    async def emit(self, event: str, thread: ThreadRef, *, by: str, at: float, extra: dict[str, object]) -> None: ...


class ServiceWatch:
    def __init__(
        self,
        metrics: Metrics,
        targets: Targets,
        stats: ServiceStats | None = None,
        events: EventSink | None = None,
        topic_of: Callable[[ThreadRef], Awaitable[str]] | None = None,
        breaches: Breaches | None = None,
    ) -> None:
        """`topic_of`: the knowledge-base section a thread's customer asked about (read at hand-off only);
        `breaches`: the reminders before and at a missed target, watched from each hand-off."""
        self._metrics = metrics
        self._targets = targets
        self._stats = stats
        self._events = events
        self._topic_of = topic_of
        self._breaches = breaches

    async def unsolved(self) -> None:
        """A conversation will not count as solved by Sarah (handed off, or an answer did not help)."""
        self._metrics.conversations_unsolved.inc()
        if self._stats is not None:
            await self._stats.conversation_unsolved()

    async def opened(self, thread: ThreadRef, times: ServiceTimes | None, now: float, reason: str) -> None:
        if times is not None and times.first_unsolved:
            await self.unsolved()
        if self._stats is not None:
            topic = await self._topic_of(thread) if self._topic_of is not None else ""
            await self._stats.handed_off(reason, topic)
        if self._breaches is not None and times is not None and times.escalated_at:
            await self._breaches.watch(thread, times.escalated_at)

    async def card_posted(self, thread: ThreadRef, now: float) -> None:
        """The hand-off's card is in the support channel: the event carries its link."""
        await self._emit("handoff.opened", thread, "sarah", now)

    async def claimed(self, thread: ThreadRef, times: ServiceTimes | None, by: str, now: float) -> None:
        if times is not None:
            await self._emit("handoff.claimed", thread, by, now)

    async def answered(self, thread: ThreadRef, times: ServiceTimes | None, by: str, now: float) -> None:
        if times is None or not times.escalated_at:
            return
        used = self._measure(Target.FIRST_RESPONSE, times.escalated_at, now)
        await self._emit("handoff.first_response", thread, by, now, business_seconds=round(used))

    async def closed(
        self, thread: ThreadRef, times: ServiceTimes | None, by: str, now: float, *, resolved: bool
    ) -> None:
        if self._breaches is not None:
            await self._breaches.forget(thread)
        if times is None or not times.escalated_at:
            return
        first = self._targets.used(times.escalated_at, times.first_response_at) if times.first_response_at else None
        resolution = self._measure(Target.RESOLUTION, times.escalated_at, now) if resolved else None
        if self._stats is not None:
            record = ClosedHandoff(
                times.reason,
                times.escalated_at,
                now,
                "resolved" if resolved else "handed_back",
                first,
                resolution,
            )
            await self._stats.closed(record)
        event = "handoff.resolved" if resolved else "handoff.handed_back"
        extra: dict[str, object] = {"business_seconds": round(resolution)} if resolution is not None else {}
        await self._emit(event, thread, by, now, **extra)

    def _measure(self, target: Target, escalated_at: float, done_at: float) -> float:
        used = self._targets.used(escalated_at, done_at)
        histogram = (
            self._metrics.first_response_business_seconds
            if target is Target.FIRST_RESPONSE
            else self._metrics.resolution_business_seconds
        )
        histogram.observe(used)
        met = used <= self._targets.seconds(target)
        self._metrics.service_targets.labels(target.value, "met" if met else "missed").inc()
        return used

    async def _emit(self, event: str, thread: ThreadRef, by: str, at: float, **extra: object) -> None:
        if self._events is not None:
            await self._events.emit(event, thread, by=by, at=at, extra=extra)
