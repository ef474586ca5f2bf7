"""The pipeline and the inbox as the worker sees them, measured: a span and an in-progress count per
pass, and every acknowledged entry counted and timed.

Subclasses, so the worker, the pipeline and the inbox stay unaware of metrics and traces, and the
worker is wired exactly as before. The pass's thread key is put in a context variable for the model
call's span (gen_ai.conversation.id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.ops.metrics import Metrics
from bot.ops.tracing import NO_TRACING, Tracing, conversation_id
from handlers.answered import Answered
from handlers.messages import ThreadRef
from handlers.pipeline import Pipeline
from handlers.store.dead_letters import DeadLetters
from handlers.store.inbox import Inbox
from handlers.store.service_stats import ServiceStats
from handlers.store.thread_store import Pending, Snapshot


class ObservedPipeline(Pipeline):
    tracing: Tracing = NO_TRACING  # the runtime sets its own
    metrics: Metrics | None = None
    stats: ServiceStats | None = None  # the support team's numbers (`sarah report`, the digest)

    async def conversation_started(self, thread: ThreadRef) -> None:
        if self.metrics is not None:
            self.metrics.conversations.inc()
        if self.stats is not None:
            await self.stats.conversation_started()

    async def answer_pending(
        self,
        thread: ThreadRef,
        still_ours: Callable[[], bool] = lambda: True,
        *,
        lease: str = "",
        first: Snapshot | None = None,
    ) -> Answered:
        if self.metrics is not None:
            with self.metrics.threads_in_progress.track_inprogress():
                return await self._traced(thread, still_ours, lease, first)
        return await self._traced(thread, still_ours, lease, first)

    async def _traced(
        self, thread: ThreadRef, still_ours: Callable[[], bool], lease: str, first: Snapshot | None
    ) -> Answered:
        if not self.tracing.on:
            return await super().answer_pending(thread, still_ours, lease=lease, first=first)
        token = conversation_id.set(thread.key)
        try:
            with self.tracing.span("sarah.pass", {"gen_ai.conversation.id": thread.key}) as span:
                answered = await super().answer_pending(thread, still_ours, lease=lease, first=first)
                span.set_attribute("sarah.entries_answered", len(answered.entry_ids))
                return answered
        finally:
            conversation_id.reset(token)


class CountingInbox(Inbox):
    """Counts acknowledged entries and times each batch from its oldest entry's stream id."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def done(self, entry_ids: list[str]) -> None:
        await super().done(entry_ids)
        self._metrics.passes_done(entry_ids)

    def acknowledge_later(self, entry_ids: list[str]) -> None:
        super().acknowledge_later(entry_ids)
        self._metrics.passes_done(entry_ids)  # answered now, whenever the acknowledgement lands

    async def flush_acknowledgements(self) -> None:
        await Inbox.done(self, self._take_unacknowledged())  # counted when they were answered


class CountingDeadLetters(DeadLetters):
    """Counts the messages moved to the dead-letter stream."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def bury(self, thread_key: str, batch: Iterable[Pending], error: BaseException, passes: int) -> int:
        moved = await super().bury(thread_key, batch, error, passes)
        self._metrics.dead_lettered.inc(moved)
        return moved
