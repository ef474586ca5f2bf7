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
from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store.keys import HOME_WORKSPACE_URL, WEBHOOK_ATTEMPTS, WEBHOOK_DEAD, WEBHOOK_DUE, WEBHOOK_STREAM
from handlers.store.thread_store import ThreadStore
from handlers.store.values import as_text

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3_600.0
IDLE_POLL_SECONDS = 1.0
DEAD_LETTERS_KEPT = 10_000  # the oldest events set aside are dropped beyond this

_ENQUEUE = """
-- KEYS: stream, due   ARGV: body, customer, now
local id = redis.call('XADD', KEYS[1], '*', 'body', ARGV[1], 'customer', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], id)
return id
"""

_CLAIM = """
-- KEYS: due   ARGV: now, until, limit
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""

_DONE = """
-- KEYS: stream, due, attempts   ARGV: id
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

_FAILED = """
-- KEYS: stream, due, attempts, dead   ARGV: id, max attempts, retry at, error, dead letters kept
local n = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
if n < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return n
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry > 0 then
  local fields = entry[1][2]
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[1], 'error', ARGV[4], 'attempts', n,
    unpack(fields))
end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return -n
"""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Sarah-Signature` of `body` sent at `timestamp` (Slack's v0 scheme, with Sarah's secret)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class HandoffEvents:
    """Turns a hand-off step into an event on the delivery stream (one script: entry and due time)."""

    def __init__(
        self,
        redis: Redis,
        store: ThreadStore,
        *,
        include_text: bool,
        workspace_url: Callable[[], Awaitable[str]],
        wake: asyncio.Event | None = None,
    ) -> None:
        self._redis = redis
        self._store = store
        self._include_text = include_text
        self._workspace_url = workspace_url
        self._wake = wake
        self._enqueue = redis.register_script(_ENQUEUE)

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
        await self._enqueue(keys=[WEBHOOK_STREAM, WEBHOOK_DUE], args=[raw, state.customer, at])
        if self._wake is not None:
            self._wake.set()


def workspace_url_from(redis: Redis) -> Callable[[], Awaitable[str]]:
    """The workspace's URL as the ingress stored it (auth.test), read once it is there."""
    known = ""

    async def read() -> str:
        nonlocal known
        if not known:
            known = as_text(await redis.get(HOME_WORKSPACE_URL) or b"")
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
        redis: Redis,
        *,
        url: str,
        secret: str,
        max_attempts: int,
        retry_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._url = url
        self._secret = secret
        self._max_attempts = max_attempts
        self._retry = retry_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self.wake = asyncio.Event()  # set by `HandoffEvents.emit`: deliver now rather than at the next poll
        self._claim = redis.register_script(_CLAIM)
        self._done = redis.register_script(_DONE)
        self._failed = redis.register_script(_FAILED)

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
        ids = [as_text(i) for i in await self._claim(keys=[WEBHOOK_DUE], args=[now, now + self._timeout + 30, limit])]
        delivered = 0
        for entry_id in ids:
            entries = await self._redis.xrange(WEBHOOK_STREAM, entry_id, entry_id)
            if not entries:  # forgotten meanwhile
                await self._done(keys=[WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS], args=[entry_id])
                continue
            fields = {as_text(k): v for k, v in (entries[0][1] or {}).items()}
            body = fields.get("body") or b""
            error = await self._post(session, body if isinstance(body, bytes) else str(body).encode())
            if error is None:
                await self._done(keys=[WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS], args=[entry_id])
                delivered += 1
                continue
            attempts = await self._redis.hget(WEBHOOK_ATTEMPTS, entry_id)
            tried = int(attempts or 0) + 1
            retry_at = self._clock() + min(self._retry * 2 ** (tried - 1), MAX_BACKOFF_SECONDS)
            result = int(
                await self._failed(
                    keys=[WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS, WEBHOOK_DEAD],
                    args=[entry_id, self._max_attempts, retry_at, error, DEAD_LETTERS_KEPT],
                )
            )
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
