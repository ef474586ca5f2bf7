"""The per-person message limit at the front door: a Bolt middleware that runs before the ingress
listener, so a message over a limit is never queued (and never costs a model call).

Whoever is over a limit is told in an ephemeral message (only they see it): once per minute when
they write too fast, every time they try to open one conversation too many. The message is
acknowledged either way, so Slack does not retry it. Slack's own retries of an event skip the count.
The check is also the first write on a message's path: when Redis is full (maxmemory, noeviction) it
fails here, and the sender is told instead of meeting silence.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ResponseError
from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.boundaries import Middleware
from bot.slack_events import Ignored, classify
from handlers.limits import TEXT_TOO_FAST, TEXT_TOO_MANY_THREADS, Limits, Verdict
from handlers.messages import InboundMessage, Kind
from handlers.thread_store import ThreadStore

log = logging.getLogger(__name__)

TEXT_STORE_FULL = (
    "Sorry, I can't take new messages right now because my memory is full. Our team has been alerted; "
    "please send your message again a little later."
)


def message_gate(
    limits: Limits, store: ThreadStore, *, support_channel: str | None = None, clock: Callable[[], float] = time.time
) -> Middleware:
    """`support_channel` is exempt: agents answering in a card's thread are relayed, never limited."""
    notices: set[asyncio.Task[None]] = set()  # keeps the background notices alive until sent

    async def gate(
        body: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
    ) -> Any:
        event = body.get("event")
        if (
            body.get("type") != "event_callback"
            or not isinstance(event, dict)
            or request.headers.get("x-slack-retry-num")
        ):
            return await next()
        message = classify(event, context.bot_user_id)
        if isinstance(message, Ignored) or message.thread.channel == support_channel:
            return await next()
        try:
            verdict = await _check(limits, store, message, clock())
        except ResponseError as error:  # OutOfMemoryError, or the same wrapped by a script error
            if "OOM" not in str(error):
                raise
            # Redis at maxmemory (noeviction): nothing new can be stored
            log.error("Redis is full (maxmemory): a message was not queued; the sender was told")
            _notify(notices, client, message, TEXT_STORE_FULL)
            return BoltResponse(status=200, body="")
        if verdict is Verdict.OK:
            return await next()
        log.info("a message over a per-person limit was not queued", extra={"limit": verdict.value})
        text = {
            Verdict.TOO_FAST: TEXT_TOO_FAST,
            Verdict.TOO_MANY_THREADS: TEXT_TOO_MANY_THREADS.format(n=limits.max_open_threads),
        }.get(verdict)
        if text:
            _notify(notices, client, message, text)
        return BoltResponse(status=200, body="")

    return gate


def _notify(notices: set[asyncio.Task[None]], client: AsyncWebClient, message: InboundMessage, text: str) -> None:
    """Tell the sender in the background: the acknowledgement to Slack must not wait for it."""
    task = asyncio.create_task(_tell(client, message, text))
    notices.add(task)
    task.add_done_callback(notices.discard)


async def _check(limits: Limits, store: ThreadStore, message: InboundMessage, now: float) -> Verdict:
    top_level = message.thread.thread_ts == message.ts
    if message.kind is Kind.THREAD_REPLY:
        if not await store.exists(message.thread):
            return Verdict.OK  # a thread Sarah is not part of: not hers to count (the worker drops it)
        opens = False
    elif message.kind is Kind.DM:
        # A DM conversation is the person's own: their index of threads (read by the limit's
        # script) already says whether it is new to them, without a look at the thread.
        opens = True
    else:
        opens = top_level or not await store.exists(message.thread)
    return await limits.check_message(message.user, message.thread.key, opens_thread=opens, now=now)


async def _tell(client: AsyncWebClient, message: InboundMessage, text: str) -> None:
    try:
        await client.chat_postEphemeral(
            channel=message.thread.channel, user=message.user, thread_ts=message.thread.thread_ts, text=text
        )
    except Exception:  # the notice is a courtesy: its failure must not surface as Slack retries
        log.warning("could not tell a person about a limit", exc_info=True)
