"""The model as the pipeline and the hand-off see it, counted and traced: calls, errors, tokens, time, one span each.

A wrapper, so neither model implementation knows about metrics or traces, and every caller's calls
are measured (the pipeline's answers, the hand-off's summaries). The span follows
OpenTelemetry's GenAI conventions (operation `chat`, provider, requested model, token usage,
finish reasons, the thread key as gen_ai.conversation.id) and never records message content.
"""

from __future__ import annotations

import time

from bot.ops.metrics import Metrics
from bot.ops.tracing import NO_TRACING, Tracing, conversation_id
from handlers.model import Conversation, Model, Outcome, Reply, StreamingModel, TextSink

FINISH_REASONS = {Outcome.ANSWERED: "stop", Outcome.HANDOFF: "tool_calls", Outcome.UNAVAILABLE: "error"}


class ObservedModel:
    def __init__(self, model: Model, metrics: Metrics, tracing: Tracing = NO_TRACING, *, provider: str) -> None:
        self._model = model
        self._metrics = metrics
        self._tracing = tracing
        self._provider = provider
        self.name = model.name

    async def reply(self, conversation: Conversation) -> Reply:
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self._provider,
            "gen_ai.request.model": self.name,
        }
        if key := conversation_id.get():
            attributes["gen_ai.conversation.id"] = key
        started = time.perf_counter()
        with self._tracing.span(f"chat {self.name}", attributes, client=True) as span:
            reply = await self._model.reply(conversation)
            if span is not None:
                span.set_attribute("gen_ai.response.finish_reasons", [FINISH_REASONS[reply.outcome]])
                for ours, theirs in (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens")):
                    if ours in reply.usage:
                        span.set_attribute(f"gen_ai.usage.{theirs}", int(reply.usage[ours]))
                if reply.outcome is Outcome.UNAVAILABLE:
                    span.set_attribute("error.type", "unavailable")
        m = self._metrics
        m.model_seconds.observe(time.perf_counter() - started)
        m.model_calls.labels(reply.outcome.value).inc()
        if reply.outcome is Outcome.UNAVAILABLE:
            m.model_errors.inc()
        m.model_tokens.labels("input").inc(reply.usage.get("prompt_tokens", 0))
        m.model_tokens.labels("output").inc(reply.usage.get("completion_tokens", 0))
        return reply

    async def reply_streaming(self, conversation: Conversation, on_text: TextSink) -> Reply:
        """The streaming call (streamed answers), counted and traced exactly like `reply`; a model that
        cannot stream answers through `reply`, and nothing is streamed."""
        if not isinstance(self._model, StreamingModel):
            return await self.reply(conversation)
        call = _StreamingCall(self._model, on_text)
        return await ObservedModel(call, self._metrics, self._tracing, provider=self._provider).reply(conversation)


class _StreamingCall:
    """`reply` made a streaming call with `on_text`, so one measured path serves both."""

    def __init__(self, model: StreamingModel, on_text: TextSink) -> None:
        self._model = model
        self._on_text = on_text
        self.name = model.name

    async def reply(self, conversation: Conversation) -> Reply:
        return await self._model.reply_streaming(conversation, self._on_text)


def provider_name(base_url: str | None, offline: bool) -> str:
    """gen_ai.provider.name: the well-known values where they apply."""
    if offline:
        return "sarah.offline"
    if base_url and "azure" in base_url:
        return "azure.ai.openai"
    return "openai" if not base_url or "openai.com" in base_url else "openai_compatible"
