"""The per-person message limits at the front door: which messages count, and what their sender is told.

The ingress counts a message in the same script that queues it (handlers/store/front_door.py), so a message over a
limit is never queued (and never costs a model call). Whoever is over a limit is told in an
ephemeral message: once per minute when they write too fast, every time they try to open one
conversation too many. The message is acknowledged either way, so Slack does not retry it. Slack's
own retries of an event skip the count. When Redis is full (maxmemory, noeviction) the message cannot
be queued either: its sender is told, instead of meeting silence. When the inbox holds
STREAM_MAX_LENGTH unanswered messages a new one is refused with a 5xx so that Slack retries it, and
its sender is told on the first delivery (not on Slack's retries). Either way the team hears of it
once (in SUPPORT_CHANNEL, and in the logs), and /healthz fails while it lasts (bot/ops/alarms.py).
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.alarms import Alarms
from bot.slack.text import sarah_mrkdwn
from handlers.messages import InboundMessage, Kind
from handlers.store.front_door import Counting
from handlers.store.limits import TEXT_STORED_FULL, TEXT_THREAD_FULL, TEXT_TOO_FAST, TEXT_TOO_MANY_THREADS, Verdict

log = logging.getLogger(__name__)

TEXT_STORE_FULL = (
    "Sorry, I can't take new messages right now because my memory is full. Our team has been alerted; "
    "please send your message again a little later."
)
TEXT_INBOX_FULL = (
    "Sorry, I'm receiving more messages than I can answer right now. Your message is not lost: Slack "
    "will hand it to me again in a few minutes. If you get no answer within ten minutes, please send it again."
)
ALERT_STORE_FULL = (
    ":rotating_light: Redis is full (maxmemory reached, policy noeviction): Sarah cannot queue new messages. "
    "Senders are told to write again later. Free memory or raise maxmemory."
)
ALERT_INBOX_FULL = (
    ":rotating_light: Sarah's inbox holds STREAM_MAX_LENGTH ({cap}) unanswered messages: new messages are "
    "refused and Slack retries them for a few minutes. Check that the workers are running (SARAH_ROLE=worker)."
)


def counting(message: InboundMessage, *, retried: bool, support_member: bool = False) -> Counting:
    """How `message` counts against its sender's limits. The support team is exempt in the support
    channel (`support_member`: agents answering in a card's thread are relayed, never limited);
    everyone else counts there as anywhere. Slack's retries were counted once."""
    if retried or support_member:
        return Counting.SKIP
    if message.kind is Kind.THREAD_REPLY:
        return Counting.IF_OURS  # a thread Sarah is not part of: not hers to count (the worker drops it)
    if message.kind is Kind.MENTION and message.thread.thread_ts != message.ts:
        return Counting.OPENS_UNLESS_OURS
    # A DM conversation is the person's own: their index of threads (read by the limit's script)
    # already says whether it is new to them, without a look at the thread.
    return Counting.COUNT


class Notices:
    """Tells a sender, in an ephemeral message (only they see it), why their message was not queued:
    in the background, because Slack's acknowledgement must not wait for it."""

    def __init__(
        self, *, max_open_threads: int, alarms: Alarms | None = None, support_channel: str | None = None
    ) -> None:
        self._max_open = max_open_threads
        self._alarms = alarms or Alarms()
        self._support_channel = support_channel
        self._sending: set[asyncio.Task[None]] = set()  # keeps the notices alive until sent

    def over_limit(self, client: AsyncWebClient, message: InboundMessage, verdict: Verdict) -> None:
        log.info("a message over a per-person limit was not queued", extra={"limit": verdict.value})
        text = {
            Verdict.TOO_FAST: TEXT_TOO_FAST,
            Verdict.TOO_MANY_THREADS: TEXT_TOO_MANY_THREADS.format(n=self._max_open),
            Verdict.THREAD_FULL: TEXT_THREAD_FULL,
            Verdict.STORED_FULL: TEXT_STORED_FULL,
        }.get(verdict)
        if text:  # QUIET: told once this minute already
            self._tell(client, message, text)

    def store_full(self, client: AsyncWebClient, message: InboundMessage) -> None:
        log.error("Redis is full (maxmemory): a message was not queued; the sender was told")
        self._tell(client, message, TEXT_STORE_FULL)
        if self._alarms.raise_alarm("redis_refuses_writes", "Redis refused a write (maxmemory reached)"):
            self._alert(client, "redis_refuses_writes", ALERT_STORE_FULL)

    def inbox_full(self, client: AsyncWebClient, message: InboundMessage, *, cap: int, retried: bool) -> None:
        log.error("the inbox holds STREAM_MAX_LENGTH (%d) unanswered messages: a message was refused", cap)
        if not retried:
            self._tell(client, message, TEXT_INBOX_FULL)
        if self._alarms.raise_alarm("inbox_full", f"the inbox holds STREAM_MAX_LENGTH ({cap}) unanswered messages"):
            self._alert(client, "inbox_full", ALERT_INBOX_FULL.format(cap=f"{cap:,}"))

    def _alert(self, client: AsyncWebClient, alarm: str, text: str) -> None:
        """Tell the team of `alarm` in SUPPORT_CHANNEL, unless another process told it lately."""
        if not self._support_channel:
            return  # the log line above is the alert
        task = asyncio.create_task(self._alert_once(client, self._support_channel, alarm, text))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _alert_once(self, client: AsyncWebClient, channel: str, alarm: str, text: str) -> None:
        if await self._alarms.first_to_tell(alarm):
            await _alert(client, channel, text)

    def _tell(self, client: AsyncWebClient, message: InboundMessage, text: str) -> None:
        task = asyncio.create_task(_tell(client, message, text))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)


async def _tell(client: AsyncWebClient, message: InboundMessage, text: str) -> None:
    try:
        await client.chat_postEphemeral(
            channel=message.thread.channel,
            user=message.user,
            thread_ts=message.thread.thread_ts,
            text=sarah_mrkdwn(text),
        )
    except Exception:  # the notice is a courtesy: its failure must not surface as Slack retries
        log.warning("could not tell a person about a limit", exc_info=True)


async def _alert(client: AsyncWebClient, channel: str, text: str) -> None:
    try:
        await client.chat_postMessage(channel=channel, text=text)
    except Exception:  # the error log line stays the alert
        log.warning("could not alert the support channel", exc_info=True)
