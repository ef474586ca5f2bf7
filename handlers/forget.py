"""Delete what Sarah keeps about one person: every conversation in which they are the customer.

The threads are found through the person's index (`sarah:{user:U}:threads`, see
handlers/thread_store.py). Each thread is deleted by one Lua script on its own keys (one cluster
slot), and only if its state names this person as the customer, so a stale or forged index entry
never deletes someone else's conversation. The relay state of the thread's hand-off card and the
person's own keys (index, hand-off slot, rate counters of this minute) go too, and so do hand-off
events about them that are waiting to be delivered or were set aside (bot/webhooks.py).

What stays: lines the person wrote in other people's threads (they belong to those conversations),
and what Slack itself holds (the messages, the cards), which the workspace's retention governs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from handlers.keys import (
    BREACH_CHECKS,
    REMINDERS,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DEAD,
    WEBHOOK_DUE,
    WEBHOOK_STREAM,
    dm_conversations_key,
    handoff_key,
    rate_key,
    thread_keys,
    user_threads_key,
)
from handlers.messages import ThreadRef
from handlers.thread_store import as_text, parse_thread_key

_KEY_NAMES = ("state", "turns", "queue", "answered", "lease", "failed")

_FORGET_THREAD = """
-- KEYS: state, turns, queue, answered, lease, failed   ARGV: customer
if redis.call('HGET', KEYS[1], 'customer') ~= ARGV[1] then return {-1, '', ''} end
local card = redis.call('HMGET', KEYS[1], 'card_channel', 'card_ts')
return {redis.call('DEL', unpack(KEYS)), card[1] or '', card[2] or ''}
"""

_FORGET_CARD = """
-- KEYS: the card thread's state, turns, queue, answered, lease, failed   ARGV: customer thread key
if redis.call('HGET', KEYS[1], 'relay_to') ~= ARGV[1] then return 0 end
return redis.call('DEL', unpack(KEYS))
"""


_FORGET_EVENTS = """
-- KEYS: webhook stream, due, attempts, dead letters   ARGV: customer
-- Hand-off events about the person not delivered yet (or set aside): they name the person.
local n = 0
for _, key in ipairs({KEYS[1], KEYS[4]}) do
  for _, entry in ipairs(redis.call('XRANGE', key, '-', '+')) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'customer' and fields[i + 1] == ARGV[1] then
        redis.call('XDEL', key, entry[1])
        redis.call('ZREM', KEYS[2], entry[1])
        redis.call('HDEL', KEYS[3], entry[1])
        n = n + 1
      end
    end
  end
end
return n
"""


@dataclass(frozen=True, slots=True)
class Forgotten:
    threads: int  # conversations deleted
    keys: int  # Redis keys deleted in all (threads, cards' relay state, the person's own keys)

    def sentence(self) -> str:
        if not self.threads:
            return "I had no conversations of yours to delete."
        plural = "s" if self.threads != 1 else ""
        return f"Done: I deleted {self.threads} conversation{plural} of yours ({self.keys} stored items)."


class Forgetter:
    def __init__(self, redis: Redis, *, latest_prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        """`latest_prefix`: the inbox's "last thread per channel and person" pointers (bot/inbox.py)."""
        self._redis = redis
        self._latest_prefix = latest_prefix
        self._clock = clock
        self._thread = redis.register_script(_FORGET_THREAD)
        self._card = redis.register_script(_FORGET_CARD)
        self._events = redis.register_script(_FORGET_EVENTS)

    async def forget(self, user: str) -> Forgotten:
        """Delete every conversation `user` is the customer of, and their own keys."""
        index = user_threads_key(user)
        members = [as_text(m) for m in await self._redis.zrange(index, 0, -1)]
        threads = keys = 0
        channels: set[str] = set()
        for member in members:
            thread = parse_thread_key(member)
            channels.add(thread.channel)
            deleted, card_channel, card_ts = await self._thread(keys=_keys(thread), args=[user])
            if int(deleted) < 0:
                continue  # not theirs (or gone already)
            threads += 1
            keys += int(deleted)
            await self._redis.zrem(REMINDERS, member)
            await self._redis.zrem(BREACH_CHECKS, member)
            if card_channel and card_ts:
                card = ThreadRef(as_text(card_channel), as_text(card_ts))
                keys += int(await self._card(keys=_keys(card), args=[member]))
        minute = math.floor(self._clock() / 60)
        own = [index, handoff_key(user), rate_key(user, minute), rate_key(user, minute - 1), dm_conversations_key(user)]
        if self._latest_prefix:
            own += [f"{self._latest_prefix}{channel}:{user}" for channel in sorted(channels)]
        for key in own:  # one by one: the person's keys and the inbox's pointers live in different slots
            keys += int(await self._redis.delete(key))
        events = [WEBHOOK_STREAM, WEBHOOK_DUE, WEBHOOK_ATTEMPTS, WEBHOOK_DEAD]
        keys += int(await self._events(keys=events, args=[user]))
        return Forgotten(threads, keys)


def _keys(thread: ThreadRef) -> list[str]:
    names = thread_keys(thread)
    return [getattr(names, name) for name in _KEY_NAMES]
