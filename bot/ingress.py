"""The Slack side of Sarah's front door: a Bolt `AsyncApp` whose listeners only queue messages.

Bolt verifies Slack's signature (401 on a bad one) and answers `url_verification`. With
`process_before_response=True` Bolt acknowledges an event only after the listener returns, and
answers 500 if it raises, so a message that could not be queued (Redis down) is retried by Slack
instead of being lost. The listener does nothing slow: classify, then one Lua call.

A DM is one conversation, as customers write it: most people type at the top level of a DM, not
in threads, so `dm_conversations` (a middleware that runs before the per-person gate, so both see
the same conversation) maps a top-level DM to the person's current conversation, and a reply in the
thread of such a message to that same conversation. Sarah answers in the thread of the message she
answers; other DM threads (assistant threads of the agent surface) are conversations of their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ResponseError
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.boundaries import Home, Middleware
from bot.inbox import Inbox
from bot.metrics import Metrics
from bot.slack_events import CONVERSATION_KEY, DEFAULT_MAX_MESSAGE_CHARS, Ignored, classify, dm_top_level
from handlers.messages import InboundMessage, Kind
from handlers.scripts import run_together
from handlers.thread_store import ThreadStore

log = logging.getLogger(__name__)


def build_bolt_app(
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
    inbox: Inbox,
    identity: AuthorizeResult,
    home: Home | None = None,
    middleware: tuple[Middleware, ...] = (),
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
    metrics: Metrics | None = None,
    store: ThreadStore | None = None,
) -> AsyncApp:
    """`identity` is Sarah's auth.test, made once at start: Bolt would otherwise call auth.test on the
    first event and answer 200 (losing the event) if that call were rate-limited.

    `middleware` runs before every listener, in order: the workspace boundary first (bot/boundaries.py),
    then the per-person limits (bot/gate.py). `home` marks Slack Connect outsiders as external."""

    async def authorize(**_: Any) -> AuthorizeResult:
        return identity

    app = AsyncApp(
        # Bolt gives each request a client with the token from `authorize`; this copy carries the
        # shared session and retry handlers without a token (a token here too makes Bolt warn).
        client=AsyncWebClient(
            base_url=client.base_url,
            session=client.session,
            timeout=client.timeout,
            retry_handlers=client.retry_handlers,
        ),
        signing_secret=signing_secret,
        authorize=authorize,
        process_before_response=True,
        request_verification_enabled=signing_secret is not None,
    )
    for check in middleware:
        app.use(check)

    async def queue_message(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        started = time.perf_counter()
        message = classify(
            event,
            context.bot_user_id,
            str(body.get("event_id", "")),
            home=home,
            shared=body.get("is_ext_shared_channel") is True,
            max_chars=max_message_chars,
        )
        if isinstance(message, Ignored):
            log.debug("ignored a Slack event: %s", message.reason)
            return
        queued = await _queue(inbox, store, message)
        if metrics is not None:
            metrics.count_queued(queued, time.perf_counter() - started)
        log.info(
            "message %s" % ("queued" if queued else "already queued (Slack retry or duplicate)"),
            extra={"thread_key": message.thread.key, "kind": message.kind.value, "chars": len(message.text)},
        )
        if message.cut_from:
            log.info(
                "message cut to MAX_MESSAGE_CHARS", extra={"thread_key": message.thread.key, "chars": message.cut_from}
            )

    app.event("message")(queue_message)
    app.event("app_mention")(queue_message)
    return app


DM_THREADS_REMEMBERED = 50_000  # per process: ~10 MB at most


def dm_conversations(
    store: ThreadStore, *, clock: Callable[[], float] = time.time, remembered: int = DM_THREADS_REMEMBERED
) -> Middleware:
    """A Bolt middleware that marks a DM event with the conversation it belongs to (CONVERSATION_KEY,
    read by `classify`): one Redis call per DM (two when the current conversation has gone idle).

    Which conversation a DM thread belongs to never changes once a message joined it (Redis keeps
    that answer for Slack's retries and for the gate), so this process remembers the latest
    `remembered` answers: a reply in the thread of a DM already seen costs no round trip."""
    known_threads: dict[tuple[str, str, str], str] = {}  # (user, channel, thread ts) → conversation

    def remember(user: str, channel: str, thread_ts: str, conversation: str) -> None:
        if len(known_threads) >= remembered:
            del known_threads[next(iter(known_threads))]  # the oldest answer
        known_threads[(user, channel, thread_ts)] = conversation

    async def conversations(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> Any:
        event = body.get("event")
        if body.get("type") != "event_callback" or not isinstance(event, dict):
            return await next()
        event.pop(CONVERSATION_KEY, None)  # only this middleware sets it
        message = classify(event, context.bot_user_id)
        if isinstance(message, Ignored) or message.kind is not Kind.DM:
            return await next()
        channel = message.thread.channel
        try:
            if dm_top_level(event):
                conversation = await store.dm_conversation(message.user, channel, message.ts, clock())
                event[CONVERSATION_KEY] = conversation
                remember(message.user, channel, message.ts, conversation)  # Sarah answers in its thread
            else:
                thread_ts = message.thread.thread_ts
                known = known_threads.get((message.user, channel, thread_ts))
                if known is None:
                    known = await store.dm_thread_conversation(message.user, channel, thread_ts)
                    if known:
                        remember(message.user, channel, thread_ts, known)
                if known:
                    event[CONVERSATION_KEY] = known
        except ResponseError as error:
            if "OOM" not in str(error):
                raise
            # Redis is full: the gate after this tells the sender; the message is not queued anyway
        return await next()

    return conversations


async def _queue(inbox: Inbox, store: ThreadStore | None, message: InboundMessage) -> bool:
    """Add the message to the inbox stream (unless it was added before: True when added now) and
    to its thread's queue, in one round trip, before Slack is acknowledged.

    Two workers may read a thread's entries in either order; with every acknowledged message
    already in its thread's queue, the one that takes the lease answers them in order. The thread's
    copy has no stream entry id yet (the XADD is in the same round trip): the worker that reads the
    entry queues it again with its id, which the ingress's copy never overwrites. Both steps are
    idempotent by message, so Slack's retry after a failure here repeats them safely."""
    if store is None:
        return await inbox.put(message)
    queue = store.accept_call(message, "", "", time.time(), take_lease=False)
    entry_id, accepted = await run_together(inbox.redis, [inbox.put_call(message), queue], raise_on_error=False)
    if isinstance(entry_id, Exception):
        raise entry_id  # not in the stream: Slack is answered 500 and retries
    if isinstance(accepted, Exception):  # loses nothing: the worker that reads the entry queues it
        log.warning(
            "could not queue a message in its thread at the door (%s); the worker will", type(accepted).__name__
        )
    else:
        store.accepted(message, accepted)
    return inbox.put_reply(entry_id)
