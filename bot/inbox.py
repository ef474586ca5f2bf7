"""The durable hand-over from the Slack ingress to the workers: one Redis stream, one consumer group.

The ingress calls `put`, a single Lua script that drops a message already seen (Slack's retries, and
the same message delivered as both `message` and `app_mention`) and otherwise appends it to the
stream, then marks it seen. The mark is written after the XADD succeeds, so a failed XADD leaves no
mark and Slack's retry gets through. Workers read through the group and call `done` only after the
reply is posted; entries of a crashed worker are taken over with XAUTOCLAIM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from handlers.messages import InboundMessage
from handlers.thread_store import as_text

log = logging.getLogger(__name__)

STREAM = "sarah:{inbox}:stream"
SEEN_PREFIX = "sarah:{inbox}:seen:"  # same hash tag as the stream: one script, one cluster slot
LATEST_PREFIX = "sarah:{inbox}:latest:"  # channel:user → the thread they wrote in last (for /sarah)
GROUP = "sarah-workers"

_PUT = """
-- KEYS: seen, stream, latest   ARGV: ttl, maxlen, payload, thread_ts
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[3])
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[1])
return id
"""


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    message: InboundMessage | None  # None: an entry that could not be read (logged, then acknowledged)


class Inbox:
    def __init__(self, redis: Redis, *, dedupe_ttl_seconds: int, max_length: int, stream: str = STREAM) -> None:
        self._redis = redis
        self._stream = stream
        self._ttl = dedupe_ttl_seconds
        self._max_length = max_length
        self._put = redis.register_script(_PUT)

    @property
    def stream(self) -> str:
        return self._stream

    async def put(self, message: InboundMessage) -> bool:
        """Queue `message` unless it was queued before; True when it was queued now."""
        seen = f"{SEEN_PREFIX}{message.thread.channel}:{message.ts}"
        latest = f"{LATEST_PREFIX}{message.thread.channel}:{message.user}"
        entry_id = await self._put(
            keys=[seen, self._stream, latest],
            args=[self._ttl, self._max_length, message.to_json(), message.thread.thread_ts],
        )
        return entry_id is not None

    async def latest_thread(self, channel: str, user: str) -> str | None:
        """The thread `user` last wrote to Sarah in, in `channel` (what `/sarah human` is about)."""
        value = await self._redis.get(f"{LATEST_PREFIX}{channel}:{user}")
        return as_text(value) if value else None

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer (waits up to `block_ms` when there are none)."""
        try:
            response = await self._redis.xreadgroup(GROUP, consumer, {self._stream: ">"}, count=count, block=block_ms)
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.ensure_group()  # the stream was deleted under us (e.g. FLUSHDB): start again
            return []
        streams: Any = response or []
        return [_entry(entry_id, fields) for _, entries in streams for entry_id, fields in entries]

    async def reclaim(self, consumer: str, *, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries another consumer left unacknowledged for `min_idle_ms`."""
        claimed: list[Entry] = []
        start = "0-0"
        while True:
            response = await self._redis.xautoclaim(self._stream, GROUP, consumer, min_idle_ms, start, count=count)
            start, entries = as_text(response[0]), response[1]
            claimed.extend(_entry(entry_id, fields) for entry_id, fields in entries if fields)
            if start == "0-0" or not entries:
                return claimed

    async def done(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete answered entries, so the stream holds only work still to do."""
        if not entry_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xack(self._stream, GROUP, *entry_ids)
            pipe.xdel(self._stream, *entry_ids)
            await pipe.execute()


def _entry(entry_id: Any, fields: Any) -> Entry:
    try:
        return Entry(as_text(entry_id), InboundMessage.from_json(fields.get(b"m", fields.get("m"))))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        log.error("unreadable stream entry %s dropped: %s", as_text(entry_id), type(error).__name__)
        return Entry(as_text(entry_id), None)
