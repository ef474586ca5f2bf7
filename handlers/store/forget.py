"""Delete what Sarah keeps about one person, following the key schema's rules (`keys.FORGET`).

- Every conversation in which they are the customer: found through the person's index
  (`sarah:{user:U}:threads`), each deleted by one Lua script on all its keys (one cluster slot), and
  only if its state names this person as the customer, so a stale or forged index entry never
  deletes someone else's conversation. The relay state of the thread's hand-off card goes too, and
  the thread leaves the open hand-offs and the reminders.
- The person's own keys (`keys.own_keys`): index, DM conversation, hand-off slot, rate counters,
  stored bytes, and the "last thread per channel" pointers of every channel they wrote in.
- Their entries in shared keys: messages waiting in the inbox and dead letters (theirs, and any of
  their conversations), so that a later `sarah dead-letters replay --all` cannot bring them back,
  and their App Home viewer entry.
- Hand-off events about them waiting to be delivered, or set aside (handlers/store/handoff_events.py).

What stays: lines the person wrote in other people's threads (they belong to those conversations),
and what Slack itself holds (the messages, the cards), which the workspace's retention governs. A
one-way digest of their id is kept (`FORGOTTEN_PEOPLE`) so that no conversation they took part in
is ever turned into training data (`sarah train harvest`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from handlers.messages import ThreadRef
from handlers.store import keys
from handlers.store.scripts import Script
from handlers.store.values import as_text, parse_thread_key

_PAGE = 500  # stream entries read per round trip when looking for the person's


def person_digest(user: str) -> str:
    """The one-way digest by which a forgotten person is recognised without keeping their id."""
    return hashlib.sha256(user.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Forgotten:
    threads: int  # conversations deleted
    keys: int  # Redis keys and stream entries deleted in all (threads, cards' relay state, the person's own)

    def sentence(self) -> str:
        if not self.threads:
            also = " I deleted the little else I kept about you (such as where you last wrote)." if self.keys else ""
            return "I had no conversations of yours to delete." + also
        plural = "s" if self.threads != 1 else ""
        return f"Done: I deleted {self.threads} conversation{plural} of yours ({self.keys} stored items)."


class Forgetter:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._thread = Script(redis, "forget_thread")
        self._card = Script(redis, "forget_card")
        self._events = Script(redis, "forget_events")

    async def forget(self, user: str) -> Forgotten:
        """Delete every conversation `user` is the customer of, their own keys and their entries."""
        members = [as_text(m) for m in await self._redis.zrange(keys.user_threads_key(user), 0, -1)]
        threads = deleted = 0
        theirs: set[str] = set()
        for member in members:
            thread = parse_thread_key(member)
            gone, card_channel, card_ts = await self._thread(keys=list(keys.thread_keys(thread).all()), args=[user])
            if int(gone) < 0:
                continue  # not theirs (or gone already)
            theirs.add(member)
            threads += 1
            deleted += int(gone)
            await self._redis.zrem(keys.REMINDERS, member)
            await self._redis.zrem(keys.OPEN_HANDOFFS, member)
            await self._redis.zrem(keys.UNCLAIMED_HANDOFFS, member)
            await self._redis.zrem(keys.BREACH_CHECKS, member)
            if card_channel and card_ts:
                card = ThreadRef(as_text(card_channel), as_text(card_ts))
                deleted += int(await self._card(keys=list(keys.thread_keys(card).all()), args=[member]))
        minute = math.floor(self._clock() / 60)
        for key in keys.own_keys(user, minute):  # one by one: they live in different slots
            deleted += int(await self._redis.delete(key))
        deleted += int(await self._redis.zrem(keys.HOME_VIEWERS, user))
        await self._redis.sadd(keys.FORGOTTEN_PEOPLE, person_digest(user))
        deleted += await self._remove_entries(keys.INBOX_STREAM, "m", user, theirs)
        deleted += await self._remove_entries(keys.DEAD_LETTERS, "m", user, theirs)
        events = [keys.WEBHOOK_STREAM, keys.WEBHOOK_DUE, keys.WEBHOOK_ATTEMPTS, keys.WEBHOOK_DEAD]
        deleted += int(await self._events(keys=events, args=[user]))
        return Forgotten(threads, deleted)

    async def _remove_entries(self, stream: str, field: str, user: str, threads: set[str]) -> int:
        """Delete the stream's entries whose message is `user`'s or belongs to one of `threads`."""
        doomed: list[str] = []
        start = "-"
        while True:
            rows: Any = await self._redis.xrange(stream, start, "+", count=_PAGE)
            for entry_id, raw in rows or []:
                if _about(raw, field, user, threads):
                    doomed.append(as_text(entry_id))
            if not rows or len(rows) < _PAGE:
                break
            start = "(" + as_text(rows[-1][0])
        removed = 0
        for index in range(0, len(doomed), _PAGE):
            removed += int(await self._redis.xdel(stream, *doomed[index : index + _PAGE]))
        return removed


def _about(raw: Any, field: str, user: str, threads: set[str]) -> bool:
    """Is this stream entry's message `user`'s, or one of `threads`'? (An unreadable one is kept.)"""
    fields = {as_text(k): v for k, v in raw.items()}
    try:
        message = json.loads(fields.get(field) or "{}")
        thread = message.get("thread") or {}
        key = f"{thread.get('channel', '')}:{thread.get('conversation_ts') or thread.get('thread_ts', '')}"
    except (TypeError, ValueError, AttributeError):
        return False
    return message.get("user") == user or key in threads or as_text(fields.get("thread", b"")) in threads
