"""The pipeline with a span per pass: the worker calls it exactly like the plain one.

A subclass, so the worker and the pipeline stay unaware of tracing; the pass's thread key is put in
a context variable for the model call's span (gen_ai.conversation.id).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.tracing import NO_TRACING, Tracing, conversation_id
from handlers.messages import ThreadRef
from handlers.pipeline import Answered, Pipeline


class TracedPipeline(Pipeline):
    tracing: Tracing = NO_TRACING  # the runtime sets its own

    async def answer_pending(self, thread: ThreadRef, still_ours: Callable[[], bool] = lambda: True) -> Answered:
        if not self.tracing.on:
            return await super().answer_pending(thread, still_ours)
        token = conversation_id.set(thread.key)
        try:
            with self.tracing.span("sarah.pass", {"gen_ai.conversation.id": thread.key}) as span:
                answered = await super().answer_pending(thread, still_ours)
                span.set_attribute("sarah.entries_answered", len(answered.entry_ids))
                return answered
        finally:
            conversation_id.reset(token)
