"""Hand-off events out: a signed POST to HANDOFF_WEBHOOK_URL for every step of a hand-off.

Events (`handoff.opened`, `.claimed`, `.first_response`, `.handed_back`, `.resolved`, `.rated`) carry
the thread's ids and link, the card's, the people's Slack ids and the times, never what anyone wrote
unless HANDOFF_WEBHOOK_INCLUDE_TEXT adds the hand-off's summary. Signed like Slack signs its
requests: `X-Sarah-Signature: v0=<hex HMAC-SHA256 of "v0:<X-Sarah-Timestamp>:<body>">`.

Delivery is at least once and loses nothing while the receiver is down: an event is a Redis stream
entry plus a due time in a sorted set; a deliverer claims due entries for a while (so a crashed one's
come back), POSTs, and on a 2xx deletes the entry; otherwise it tries again after a back-off that
doubles each time, and after HANDOFF_WEBHOOK_MAX_ATTEMPTS moves the event to a dead-letter stream.
Each event has an `id`: a receiver drops one it has seen (a retry after a lost answer).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from handlers.messages import ThreadRef
from handlers.store.app_home_state import AppHomeState
from handlers.store.handoff_events import HandoffEventQueue
from handlers.store.thread_store import ThreadStore

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3_600.0
IDLE_POLL_SECONDS = 1.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Sarah-Signature` of `body` sent at `timestamp` (Slack's v0 scheme, with Sarah's secret)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class HandoffEvents:
    """Turns a hand-off step into an event on the delivery stream (handlers/store/handoff_events.py)."""

    def __init__(
        self,
        queue: HandoffEventQueue,
        store: ThreadStore,
        *,
        include_text: bool,
        workspace_url: Callable[[], Awaitable[str]],
        wake: asyncio.Event | None = None,
    ) -> None:
        self._queue = queue
        self._store = store
        self._include_text = include_text
        self._workspace_url = workspace_url
        self._wake = wake

    async def emit(self, event: str, thread: ThreadRef, *, by: str, at: float, extra: dict[str, object]) -> None:
        state = await self._store.state(thread)
        url = (await self._workspace_url()).rstrip("/")
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "event": event,
            "at": _iso(at),
            "by": by,
            "thread": {
                "channel": thread.channel,
                "thread_ts": thread.thread_ts,
                "link": _link(url, thread.channel, thread.thread_ts) if not thread.is_dm else None,
            },
            "card": None,
            "customer": state.customer or None,
            "reason": state.handoff_reason or None,
            "handed_over_at": datetime.fromtimestamp(state.escalated_at, UTC).isoformat()
            if state.escalated_at
            else None,
            **extra,
        }
        if state.card is not None:
            link = _link(url, state.card.channel, state.card.ts)
            body["card"] = {"channel": state.card.channel, "ts": state.card.ts, "link": link}
        if self._include_text:
            body["summary"] = state.summary
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        await self._queue.enqueue(raw, customer=state.customer, at=at)
        if self._wake is not None:
            self._wake.set()


def workspace_url_from(home: AppHomeState) -> Callable[[], Awaitable[str]]:
    """The workspace's URL as the ingress stored it (auth.test), read once it is there."""
    known = ""

    async def read() -> str:
        nonlocal known
        if not known:
            known = await home.workspace_url()
        return known

    return read


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _link(workspace_url: str, channel: str, ts: str) -> str | None:
    if not workspace_url:
        return None
    return f"{workspace_url}/archives/{channel}/p{ts.replace('.', '')}"


class WebhookDelivery:
    def __init__(
        self,
        queue: HandoffEventQueue,
        *,
        url: str,
        secret: str,
        max_attempts: int,
        retry_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._queue = queue
        self._url = url
        self._secret = secret
        self._max_attempts = max_attempts
        self._retry = retry_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self.wake = asyncio.Event()  # set by `HandoffEvents.emit`: deliver now rather than at the next poll

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`; a Redis or network hiccup is logged and retried, never fatal."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as session:
            while not stop.is_set():
                self.wake.clear()
                try:
                    await self.deliver_due(session)
                except Exception:
                    log.warning("hand-off event delivery failed this round", exc_info=True)
                if stop.is_set():
                    return
                waits = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
                try:
                    await asyncio.wait(waits, timeout=IDLE_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()

    async def deliver_due(self, session: aiohttp.ClientSession, limit: int = 50) -> int:
        """POST every event that is due; returns how many the receiver took."""
        now = self._clock()
        delivered = 0
        for entry_id in await self._queue.claim_due(now, until=now + self._timeout + 30, limit=limit):
            body = await self._queue.body(entry_id)
            if body is None:  # forgotten meanwhile
                await self._queue.done(entry_id)
                continue
            error = await self._post(session, body)
            if error is None:
                await self._queue.done(entry_id)
                delivered += 1
                continue
            tried = await self._queue.attempts(entry_id) + 1
            retry_at = self._clock() + min(self._retry * 2 ** (tried - 1), MAX_BACKOFF_SECONDS)
            result = await self._queue.failed(entry_id, max_attempts=self._max_attempts, retry_at=retry_at, error=error)
            if result < 0:
                log.error("a hand-off event was set aside after %d tries: %s", -result, error)
            else:
                log.warning("a hand-off event was not delivered (try %d): %s", result, error)
        return delivered

    async def _post(self, session: aiohttp.ClientSession, body: bytes) -> str | None:
        """None when the receiver took it; else what went wrong (no body text: it may hold ids)."""
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Sarah-ZenNest-webhooks",
            "X-Sarah-Timestamp": timestamp,
            "X-Sarah-Signature": sign(self._secret, timestamp, body),
        }
        try:
            async with session.post(self._url, data=body, headers=headers, allow_redirects=False) as response:
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return type(error).__name__
