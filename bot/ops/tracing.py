"""Optional traces: a span per pass and per model call, following OpenTelemetry's GenAI conventions.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then the `otel` extra (opentelemetry-sdk and the
OTLP/HTTP exporter) is imported and spans go to that collector in batches. Off, nothing of
OpenTelemetry is imported and a span costs one no-op context manager. Spans carry ids, model names,
token counts and outcomes, never message content (`gen_ai.input.messages` and friends are not set).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

# The thread being answered, for the model call's gen_ai.conversation.id (set per pass).
conversation_id: contextvars.ContextVar[str] = contextvars.ContextVar("sarah_conversation_id", default="")


class Tracing:
    """A tracer, or nothing. `span` yields the OpenTelemetry span, or None when tracing is off."""

    def __init__(self, tracer: Any = None, provider: Any = None) -> None:
        self._tracer = tracer
        self._provider = provider

    @property
    def on(self) -> bool:
        return self._tracer is not None

    @contextlib.contextmanager
    def span(self, name: str, attributes: dict[str, Any], *, client: bool = False) -> Iterator[Any]:
        if self._tracer is None:
            yield None
            return
        from opentelemetry.trace import SpanKind

        kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
        with self._tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()


NO_TRACING = Tracing()


def build_tracing(endpoint: str | None, *, service: str = "sarah") -> Tracing:
    """Tracing to `endpoint` (an OTLP/HTTP collector), or NO_TRACING when it is unset."""
    if not endpoint:
        return NO_TRACING
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.error(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry packages are missing: install "
            "requirements/run.txt (scripts/sarah and the image do)"
        )
        return NO_TRACING
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    log.info("traces go to an OTLP collector", extra={"otlp_endpoint": endpoint})
    return Tracing(provider.get_tracer("sarah"), provider)
