"""Sarah's Prometheus metrics: one `Metrics` object per process, passed to whoever counts.

Labels are bounded on purpose: a Slack method, a hand-off reason, an outcome; never a user, thread
or channel id (each would be a new series, and an id in a metric is personal data). Unknown label
values are folded into "other". Gauges that describe the shared queue (stream depth, pending
entries, unclaimed cards) are read from Redis when /metrics is scraped, so every role reports them
and nothing polls Redis in between.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from handlers.prompt import HANDOFF_REASONS
from handlers.store.inbox import Inbox
from handlers.store.open_handoffs import OpenHandoffs

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Every Slack method Sarah calls; anything else is counted as "other".
SLACK_METHODS = frozenset(
    {
        "auth.test",
        "chat.postMessage",
        "assistant.threads.setStatus",
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
        "chat.update",
        "chat.delete",
        "chat.postEphemeral",
        "chat.getPermalink",
        "users.info",
        "conversations.info",
        "conversations.members",
        "usergroups.users.list",
        "views.publish",
        "apps.connections.open",
    }
)
HANDOFF_REASON_LABELS = frozenset({*HANDOFF_REASONS, "claimed_action"})
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_ANSWER = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60, 120)
_PEOPLE = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def bounded(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else "other"


class Metrics:
    """Every series Sarah exports, registered in a registry of its own (tests build as many as they like)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.received = Counter("sarah_messages_received", "Slack messages and button presses for Sarah", registry=r)
        self.queued = Counter("sarah_messages_queued", "Messages put on the inbox stream", registry=r)
        self.deduplicated = Counter(
            "sarah_messages_deduplicated", "Messages dropped as already queued (Slack retries, duplicates)", registry=r
        )
        self.answered = Counter(
            "sarah_messages_answered",
            "Stream entries acknowledged after their pass (reply, hand-off or relay)",
            registry=r,
        )
        self.dead_lettered = Counter(
            "sarah_messages_dead_lettered", "Messages moved to the dead-letter stream", registry=r
        )
        self.conversations = Counter(
            "sarah_conversations", "Conversations a customer started with Sarah (and fresh episodes)", registry=r
        )
        self.conversations_unsolved = Counter(
            "sarah_conversations_unsolved",
            "Conversations Sarah did not solve alone: handed off, or the customer said an answer did not help",
            registry=r,
        )
        self.handoffs = Counter("sarah_handoffs", "Threads handed to the support team", ["reason"], registry=r)
        self.claims = Counter("sarah_claims", "Threads an agent took, by who had them before", ["previous"], registry=r)
        self.resolutions = Counter(
            "sarah_resolutions", "Hand-offs closed: resolved, or handed back to Sarah", ["outcome"], registry=r
        )
        self.feedback = Counter("sarah_feedback", "Helped / Didn't help presses", ["verdict"], registry=r)
        self.ratings = Counter(
            "sarah_ratings", "Customers' ratings after a resolved hand-off, 1 to 5", ["score"], registry=r
        )
        self.slack_calls = Counter("sarah_slack_calls", "HTTP calls to Slack's Web API", ["method"], registry=r)
        self.slack_rate_limited = Counter(
            "sarah_slack_rate_limited",
            "Slack calls answered 429 (then retried after Retry-After)",
            ["method"],
            registry=r,
        )
        self.model_calls = Counter("sarah_model_calls", "Model calls by outcome", ["outcome"], registry=r)
        self.model_errors = Counter("sarah_model_errors", "Model calls that failed after retries", registry=r)
        self.model_tokens = Counter("sarah_model_tokens", "Tokens the model read and wrote", ["kind"], registry=r)
        self.ack_seconds = Histogram(
            "sarah_ack_seconds", "Time to accept a Slack event (classify + queue)", buckets=_FAST, registry=r
        )
        self.first_answer_seconds = Histogram(
            "sarah_time_to_answer_seconds",
            "From a message entering the stream to its pass being done (oldest message of the pass)",
            buckets=_ANSWER,
            registry=r,
        )
        self.model_seconds = Histogram("sarah_model_seconds", "Duration of one model call", buckets=_ANSWER, registry=r)
        self.claim_seconds = Histogram(
            "sarah_handoff_to_claim_seconds", "From hand-off to an agent taking it", buckets=_PEOPLE, registry=r
        )
        self.resolution_seconds = Histogram(
            "sarah_handoff_to_resolution_seconds",
            "From hand-off to resolved or handed back",
            buckets=_PEOPLE,
            registry=r,
        )
        self.first_response_business_seconds = Histogram(
            "sarah_handoff_first_response_business_seconds",
            "From hand-off to a person's first answer to the customer, in the team's business hours",
            buckets=_PEOPLE,
            registry=r,
        )
        self.resolution_business_seconds = Histogram(
            "sarah_handoff_resolution_business_seconds",
            "From hand-off to resolved, in the team's business hours",
            buckets=_PEOPLE,
            registry=r,
        )
        self.service_targets = Counter(
            "sarah_service_targets",
            "Hand-offs measured against a target (first_response, resolution): met or missed",
            ["target", "result"],
            registry=r,
        )
        self.stream_depth = Gauge("sarah_stream_depth", "Entries on the inbox stream not yet answered", registry=r)
        self.pending_entries = Gauge(
            "sarah_pending_entries", "Entries read by a worker and not yet acknowledged", registry=r
        )
        self.threads_in_progress = Gauge(
            "sarah_threads_in_progress", "Threads this process is answering now", registry=r
        )
        self.unclaimed_cards = Gauge("sarah_unclaimed_cards", "Hand-offs nobody has claimed yet", registry=r)
        self.oldest_unclaimed_seconds = Gauge(
            "sarah_oldest_unclaimed_seconds", "Age of the oldest unclaimed hand-off (0: none)", registry=r
        )
        self.open_handoffs = Gauge("sarah_open_handoffs", "Hand-offs not yet resolved or handed back", registry=r)

    def handed_off(self, reason: str) -> None:
        self.handoffs.labels(bounded(reason, HANDOFF_REASON_LABELS)).inc()

    def count_queued(self, queued: bool, seconds: float) -> None:
        """A message for Sarah reached the ingress: queued now, or a duplicate dropped."""
        self.received.inc()
        (self.queued if queued else self.deduplicated).inc()
        self.ack_seconds.observe(seconds)

    def passes_done(self, entry_ids: list[str], now: float | None = None) -> None:
        """A pass acknowledged `entry_ids`: count them, and time the oldest from its stream id."""
        if not entry_ids:
            return
        self.answered.inc(len(entry_ids))
        oldest = min(entry_ms(e) for e in entry_ids)
        if oldest:
            self.first_answer_seconds.observe(max(0.0, (now or time.time()) - oldest / 1000))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def entry_ms(entry_id: str) -> int:
    """A stream id is `<milliseconds>-<sequence>`: when Redis took the message."""
    head = entry_id.partition("-")[0]
    return int(head) if head.isdigit() else 0


class SlackCallCounter(AsyncRetryHandler):
    """Counts every HTTP call to Slack and every 429, by method; never retries (the next handler does).

    slack_sdk asks each retry handler about every response and every connection error, in order,
    so this one, placed first, sees them all without wrapping the client.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=1 << 30)
        self._metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = bounded(request.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0], SLACK_METHODS)
        self._metrics.slack_calls.labels(method).inc()
        if response is not None and response.status_code == 429:
            self._metrics.slack_rate_limited.labels(method).inc()
        return False


def sample(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    """One sample's value (0 when absent): for tests and `sarah doctor`-like readers."""
    value: Any = metrics.registry.get_sample_value(name, labels or {})
    return float(value or 0.0)


async def refresh_stream_gauges(metrics: Metrics, inbox: Inbox) -> None:
    """Stream depth and pending entries, read at scrape time (any role can report them)."""
    depth, pending = await inbox.depth()
    metrics.stream_depth.set(depth)
    metrics.pending_entries.set(pending)


async def refresh_queue_gauges(metrics: Metrics, queue: OpenHandoffs, now: float | None = None) -> None:
    """The open and unclaimed hand-off gauges, read at scrape time."""
    now = now or time.time()
    open_count, unclaimed, oldest = await queue.counts(now)
    metrics.open_handoffs.set(open_count)
    metrics.unclaimed_cards.set(unclaimed)
    metrics.oldest_unclaimed_seconds.set(max(0.0, now - oldest) if oldest is not None else 0.0)
