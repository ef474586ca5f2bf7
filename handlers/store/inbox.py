"""The durable hand-over from the Slack ingress to the workers: one Redis stream, one consumer group.

The ingress calls `put`, a single Lua script that drops a message already seen (Slack's retries, and
the same message delivered as both `message` and `app_mention`) and otherwise appends it to the
stream, then marks it seen. The mark is written after the XADD succeeds, so a failed XADD leaves no
mark and Slack's retry gets through. Workers read through the group; an entry is acknowledged
only after its reply is posted and recorded, with the worker's next read (`acknowledge_later`: the
XACK rides in the read's round trip). Until then it stays pending: entries of a crashed worker are
taken over with XAUTOCLAIM, and the thread's "answered" marker makes the new reader acknowledge an
entry that was answered already.

The stream can vanish under the workers (a FLUSHDB, a Redis restarted without persistence, a deleted
key): a blocked XREADGROUP then answers `UNBLOCKED the stream key no longer exists` and later calls
`NOGROUP`. Both recreate the group and go on. `FAILED_PASSES` counts, per entry, the passes that
failed on it; it survives a worker crash and XAUTOCLAIM, and `done` forgets an entry's count.

The stream is never trimmed: answered entries are deleted as they are acknowledged, so everything in
it is a message still to answer. At STREAM_MAX_LENGTH entries (the workers are down or far behind)
`put` refuses the message instead (`InboxFull`): the ingress answers Slack with a 5xx, and Slack
retries it later. `XADD MAXLEN` would drop the oldest messages, read or not, without a word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from handlers.hooks import NO_HOOKS, InboxHooks
from handlers.messages import InboundMessage
from handlers.store import keys
from handlers.store.scripts import Script, ScriptCall
from handlers.store.values import as_text

log = logging.getLogger(__name__)

STREAM = keys.INBOX_STREAM
SEEN_PREFIX = keys.INBOX_SEEN_PREFIX
LATEST_PREFIX = keys.INBOX_LATEST_PREFIX
FAILED_PASSES = keys.INBOX_FAILED_PASSES
GROUP = "sarah-workers"
_STREAM_GONE = ("NOGROUP", "no longer exists")  # deleted stream: later calls, a blocked XREADGROUP
FULL = "INBOXFULL"  # in the error `put` raises at the cap (after the script's position)


class InboxFull(Exception):
    """The stream holds STREAM_MAX_LENGTH unanswered messages: a new one is refused, not trimmed in."""


def is_inbox_full(error: BaseException) -> bool:
    return FULL in str(error)


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    message: InboundMessage | None  # None: an entry that could not be read (logged, then acknowledged)


class Inbox:
    def __init__(
        self,
        redis: Redis,
        *,
        dedupe_ttl_seconds: int,
        max_length: int,
        stream: str = STREAM,
        hooks: InboxHooks = NO_HOOKS,
    ) -> None:
        self._redis = redis
        self._hooks = hooks  # told of answered entries, once each
        self._stream = stream
        self._ttl = dedupe_ttl_seconds
        self._max_length = max_length
        self._put = Script(redis, "inbox_put")
        self._count_failed_pass = Script(redis, "inbox_count_failed_pass")
        self._remove_idle_consumers = Script(redis, "inbox_remove_idle_consumers")
        self._unacknowledged: list[str] = []  # answered entries, acknowledged with the next read

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def redis(self) -> Redis:
        return self._redis

    async def put(self, message: InboundMessage) -> bool:
        """Queue `message` unless it was queued before; True when it was queued now."""
        return self.put_reply(await self.put_call(message).run())

    def put_call(self, message: InboundMessage) -> ScriptCall:
        """`put` as a call to send in a pipeline; `put_reply` reads its reply."""
        seen = f"{SEEN_PREFIX}{message.thread.channel}:{message.ts}"
        return self._put.call(
            [seen, self._stream, keys.latest_key(message.user)],
            [self._ttl, self._max_length, message.to_json(), message.thread.thread_ts, message.thread.channel],
        )

    @staticmethod
    def put_reply(entry_id: Any) -> bool:
        """Whether the put script queued the message now (its stream entry id) or had seen it (nil)."""
        return entry_id is not None

    async def latest_thread(self, channel: str, user: str) -> str | None:
        """The thread `user` last wrote to Sarah in, in `channel` (what `/sarah human` is about)."""
        value = await self._redis.hget(keys.latest_key(user), channel)
        return as_text(value) if value else None

    async def depth(self) -> tuple[int, int]:
        """Entries in the stream (messages not answered yet), and those a worker has read but not
        acknowledged (0 before the group exists)."""
        length = int(await self._redis.xlen(self._stream))
        try:
            summary = await self._redis.xpending(self._stream, GROUP)
        except ResponseError:  # no group yet: nobody has read anything
            summary = {}
        return length, int((summary or {}).get("pending", 0))

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer (waits up to `block_ms` when there are none).

        Entries answered since the last read (`acknowledge_later`) are acknowledged in the same
        round trip, before the read."""
        acks = self._take_unacknowledged()
        if not acks:
            return await self._read_group(consumer, ">", count=count, block_ms=block_ms)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                self._acknowledge(pipe, acks)
                pipe.xreadgroup(GROUP, consumer, {self._stream: ">"}, count=count, block=block_ms)
                replies = await pipe.execute(raise_on_error=False)
        except BaseException:
            self._unacknowledged[:0] = acks  # not known to have landed: again next time (idempotent)
            raise
        for reply in replies[:-1]:
            if isinstance(reply, ResponseError):  # the stream is gone (FLUSHDB): nothing left to acknowledge
                log.debug("acknowledging answered entries failed: %s", str(reply)[:60])
        read = replies[-1]
        if isinstance(read, ResponseError):
            await self._recreate_if_gone(read)
            return []
        if isinstance(read, Exception):
            raise read
        return _entries(read)

    def acknowledge_later(self, entry_ids: list[str]) -> None:
        """Answered entries, acknowledged with the next `read` (no round trip of their own). Until
        then they stay pending: a crash before it lets another worker reclaim them, and `accept`
        finds them answered and acknowledges them."""
        self._unacknowledged.extend(entry_id for entry_id in entry_ids if entry_id)
        self._hooks.acknowledged(entry_ids)  # answered now, whenever the acknowledgement lands

    async def flush_acknowledgements(self) -> None:
        """Acknowledge what `acknowledge_later` holds now (the worker stops: no next read)."""
        await self._delete(self._take_unacknowledged())  # the hooks heard of them with `acknowledge_later`

    def _take_unacknowledged(self) -> list[str]:
        acks, self._unacknowledged = self._unacknowledged, []
        return acks

    async def own_pending(self, consumer: str, *, count: int = 100) -> list[Entry]:
        """Entries already delivered to this consumer and not acknowledged yet.

        After a Redis outage some of them may never have reached the worker (an XREADGROUP whose
        reply was lost with the connection): reading them again, at once, beats waiting for
        XAUTOCLAIM. Accepting an entry twice is harmless (the thread's queue is keyed by message).
        """
        entries: list[Entry] = []
        after = "0-0"
        while True:
            batch = await self._read_group(consumer, after, count=count, block_ms=None)
            entries.extend(batch)
            if len(batch) < count:
                return entries
            after = batch[-1].entry_id

    async def _read_group(self, consumer: str, after: str, *, count: int, block_ms: int | None) -> list[Entry]:
        try:
            response = await self._redis.xreadgroup(GROUP, consumer, {self._stream: after}, count=count, block=block_ms)
        except ResponseError as error:
            await self._recreate_if_gone(error)
            return []
        return _entries(response)

    async def reclaim(self, consumer: str, *, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries another consumer left unacknowledged for `min_idle_ms`."""
        claimed: list[Entry] = []
        start = "0-0"
        while True:
            try:
                response = await self._redis.xautoclaim(self._stream, GROUP, consumer, min_idle_ms, start, count=count)
            except ResponseError as error:
                await self._recreate_if_gone(error)
                return claimed
            start, entries = as_text(response[0]), response[1]
            claimed.extend(_entry(entry_id, fields) for entry_id, fields in entries if fields)
            if start == "0-0" or not entries:
                return claimed

    async def _recreate_if_gone(self, error: ResponseError) -> None:
        """The stream (and its group) was deleted under us, e.g. by FLUSHDB: start again, empty."""
        if not any(sign in str(error) for sign in _STREAM_GONE):
            raise error
        log.warning("the inbox stream or its consumer group is gone (%s); recreating the group", str(error)[:40])
        await self.ensure_group()

    async def count_failed_pass(self, entry_ids: list[str], *, ttl_seconds: int) -> int:
        """Count one more failed pass on each entry; returns the highest count among them."""
        if not entry_ids:
            return 0
        return int(await self._count_failed_pass(keys=[FAILED_PASSES], args=[ttl_seconds, *entry_ids]))

    async def remove_idle_consumers(self, keep: str, *, min_idle_ms: int) -> list[str]:
        """Forget consumers (crashed workers) idle this long that have nothing pending any more."""
        try:
            removed = await self._remove_idle_consumers(keys=[self._stream], args=[GROUP, min_idle_ms, keep])
        except ResponseError as error:
            await self._recreate_if_gone(error)
            return []
        return [as_text(name) for name in removed]

    async def done(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete answered entries, so the stream holds only work still to do."""
        await self._delete(entry_ids)
        self._hooks.acknowledged(entry_ids)

    async def _delete(self, entry_ids: list[str]) -> None:
        entry_ids = [entry_id for entry_id in entry_ids if entry_id]
        if not entry_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            self._acknowledge(pipe, entry_ids)
            await pipe.execute()

    def _acknowledge(self, pipe: Any, entry_ids: list[str]) -> None:
        pipe.xack(self._stream, GROUP, *entry_ids)
        pipe.xdel(self._stream, *entry_ids)
        pipe.hdel(FAILED_PASSES, *entry_ids)


def _entries(response: Any) -> list[Entry]:
    """The entries of an XREADGROUP reply (None when the read timed out)."""
    return [_entry(entry_id, fields) for _, entries in response or [] for entry_id, fields in entries]


def _entry(entry_id: Any, fields: Any) -> Entry:
    if not fields:  # deleted while still pending (answered by another worker): acknowledge it
        return Entry(as_text(entry_id), None)
    try:
        return Entry(as_text(entry_id), InboundMessage.from_json(fields.get(b"m", fields.get("m"))))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        log.error("unreadable stream entry %s dropped: %s", as_text(entry_id), type(error).__name__)
        return Entry(as_text(entry_id), None)
