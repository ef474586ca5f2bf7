"""Messages Sarah could not answer, set aside where an operator can see and replay them.

A thread whose pass keeps failing (Slack answers `channel_not_found`, a bug raises in the pipeline)
would otherwise be retried, then reclaimed every RECLAIM_IDLE_SECONDS for ever. After
DEAD_LETTER_AFTER_PASSES failed passes its entries move, in one Lua script, from the inbox to the
dead-letter stream `sarah:{inbox}:dead` (the inbox's hash tag: one cluster slot), with the error's
type and message: acknowledged and deleted from the inbox, recorded here, never lost or doubled.
`sarah dead-letters` lists, shows, replays (back to the inbox) and drops them.

Dead letters hold customers' words, so they are kept DEAD_LETTER_RETENTION_DAYS (14) and no longer:
each bury trims older ones and sets the stream to expire that long after the newest, and every read
(list, show, replay) trims first, so an expired message is never shown or replayed. `sarah forget`
removes a person's dead letters at once (handlers/store/forget.py).

Each dead entry: `entry` (its inbox id), `m` (the message, customer text included: shown only by
`show`, never logged), `thread`, `error` (the exception's type), `detail` (its message, tokens
masked, cut to 500 characters), `passes` and `at` (Unix time).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from handlers.hooks import NO_HOOKS, DeadLetterHooks
from handlers.messages import InboundMessage, ThreadRef
from handlers.store.inbox import FAILED_PASSES, GROUP, STREAM, InboxFull, is_inbox_full
from handlers.store.keys import DEAD_LETTERS as DEAD
from handlers.store.keys import thread_keys
from handlers.store.scripts import Script
from handlers.store.values import Pending, as_text

DETAIL_LIMIT = 500
DEFAULT_RETENTION_SECONDS = 14 * 86_400  # DEAD_LETTER_RETENTION_DAYS
_SECRETS = re.compile(r"(xox[a-z]-|xapp-|sk-|Bearer\s+)[\w.\-]+", re.I)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    dead_id: str
    entry_id: str
    thread: str
    error: str
    detail: str
    passes: int
    at: float
    message: InboundMessage | None  # None: the payload could not be read back


def scrub(text: str) -> str:
    """An error message fit to store: tokens masked, one line, bounded."""
    return _SECRETS.sub(r"\1[masked]", " ".join(text.split()))[:DETAIL_LIMIT]


class DeadLetters:
    def __init__(
        self,
        redis: Redis,
        *,
        max_length: int,
        stream: str = DEAD,
        inbox_stream: str = STREAM,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
        hooks: DeadLetterHooks = NO_HOOKS,
    ) -> None:
        self._redis = redis
        self._hooks = hooks  # told how many messages each burial moved
        self._stream = stream
        self._inbox = inbox_stream
        self._max_length = max_length
        self._retention_ms = int(retention_seconds * 1000)
        self._clock = clock
        self._bury = Script(redis, "dead_letters_bury")
        self._replay = Script(redis, "dead_letters_replay")

    @property
    def stream(self) -> str:
        return self._stream

    async def bury(self, thread_key: str, batch: Iterable[Pending], error: BaseException, passes: int) -> int:
        """Move the entries of `batch` from the inbox to the dead-letter stream, in one step."""
        pairs = [item for pending in batch for item in (pending.entry_id, pending.message.to_json())]
        if not pairs:
            return 0
        moved = await self._bury(
            keys=[self._inbox, FAILED_PASSES, self._stream],
            args=[
                GROUP,
                self._max_length,
                f"{time.time():.3f}",
                type(error).__name__,
                scrub(str(error)),
                passes,
                thread_key,
                self._oldest_kept(),
                self._retention_ms,
                *pairs,
            ],
        )
        self._hooks.buried(thread_key, int(moved))
        return int(moved)

    def _oldest_kept(self) -> str:
        """The id of the oldest dead letter still within the retention (ids are XADD times in ms)."""
        return f"{max(0, int(self._clock() * 1000) - self._retention_ms)}-0"

    async def expire_old(self) -> int:
        """Delete the dead letters older than the retention; returns how many."""
        return int(await self._redis.xtrim(self._stream, minid=self._oldest_kept()))

    async def unqueue(self, thread: ThreadRef, batch: Iterable[Pending]) -> None:
        """Take the messages out of their thread's queue without marking them answered (a replay
        must be answered)."""
        stamps = [pending.message.ts for pending in batch]
        if stamps:
            await self._redis.hdel(thread_keys(thread).queue, *stamps)

    async def oldest(self, count: int = 100) -> list[DeadLetter]:
        """The oldest `count` dead letters, oldest first."""
        await self.expire_old()
        rows: Any = await self._redis.xrange(self._stream, count=count)
        return [_dead_letter(dead_id, fields) for dead_id, fields in rows or []]

    async def ids(self) -> list[str]:
        await self.expire_old()
        rows: Any = await self._redis.xrange(self._stream)
        return [as_text(dead_id) for dead_id, _ in rows or []]

    async def get(self, dead_id: str) -> DeadLetter | None:
        await self.expire_old()
        rows: Any = await self._redis.xrange(self._stream, dead_id, dead_id)
        return _dead_letter(*rows[0]) if rows else None

    async def count(self) -> int:
        return int(await self._redis.xlen(self._stream))

    async def replay(self, dead_id: str) -> str | None:
        """Put the message back in the inbox (a new entry) and remove it here; None if unknown (or
        past the retention). Raises `InboxFull` when the inbox holds STREAM_MAX_LENGTH messages (it
        stays here)."""
        await self.expire_old()
        try:
            entry_id = await self._replay(keys=[self._stream, self._inbox], args=[dead_id, self._max_length])
        except ResponseError as error:
            if is_inbox_full(error):
                raise InboxFull(str(error)) from None
            raise
        return as_text(entry_id) if entry_id else None

    async def drop(self, dead_id: str) -> bool:
        return bool(await self._redis.xdel(self._stream, dead_id))


def _dead_letter(dead_id: Any, raw: Any) -> DeadLetter:
    fields = {as_text(k): as_text(v) for k, v in raw.items()}
    try:
        message: InboundMessage | None = InboundMessage.from_json(fields.get("m", ""))
    except (TypeError, ValueError, KeyError):
        message = None
    return DeadLetter(
        dead_id=as_text(dead_id),
        entry_id=fields.get("entry", ""),
        thread=fields.get("thread", ""),
        error=fields.get("error", ""),
        detail=fields.get("detail", ""),
        passes=int(fields.get("passes") or 0),
        at=float(fields.get("at") or 0),
        message=message,
    )
