"""Per-person limits and replay guards, each enforced by one atomic Redis call.

A person's keys share the hash tag `{user:U…}`, so each script below touches one cluster slot:

    sarah:{user:U}:rate:<minute>  HASH    messages this minute (`n`) and whether they were told (`told`)
    sarah:{user:U}:threads        ZSET    the threads they opened (see handlers/thread_store.py)
    sarah:{user:U}:handoff        STRING  the thread of their one open hand-off

Replays of a slash command or a button press are dropped with SET NX on `sarah:{replay:<id>}`.
Limits exist so that one person (or a script with their token) cannot flood the support channel,
Sarah's model budget or Redis; whoever hits one is told so, once, in plain words.
"""

from __future__ import annotations

import math
from enum import StrEnum

from redis.asyncio import Redis

from handlers.keys import handoff_key, rate_key, replay_key, user_threads_key
from handlers.scripts import ScriptCall
from handlers.thread_store import as_text

# Replays of a signed request are possible for 5 minutes (Slack's signature window); keep the id longer.
REPLAY_TTL_SECONDS = 15 * 60
# A thread counts as open while its customer wrote in it within this window.
OPEN_THREAD_WINDOW_SECONDS = 24 * 3600

TEXT_TOO_FAST = (
    "You're sending messages faster than I can read them, so I haven't answered the last ones. "
    "Please wait a minute, then send me what you still need in one message."
)
TEXT_TOO_MANY_THREADS = (
    "You already have {n} conversations open with me. Please carry on in one of them (reply in its "
    "thread), or try again tomorrow."
)

TEXT_HANDOFF_JOINED = (
    "Your earlier request is already with our support team, and I've added this to it. A person "
    "will reply in that conversation; you don't need to ask again."
)

_CHECK_MESSAGE = """
-- KEYS: rate, threads
-- ARGV: per_minute, member, opens ('1'|'0'), now, open_since, max_open, index_ttl
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then redis.call('EXPIRE', KEYS[1], 120) end
if n > tonumber(ARGV[1]) then
  if redis.call('HSETNX', KEYS[1], 'told', 1) == 1 then return {'too_fast', 0} end
  return {'quiet', 0}
end
if ARGV[3] == '1' and not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  local open = redis.call('ZCOUNT', KEYS[2], ARGV[5], '+inf')
  if open >= tonumber(ARGV[6]) then return {'too_many_threads', open} end
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
else
  redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[2])
end
redis.call('EXPIRE', KEYS[2], ARGV[7])  -- nothing when the person has no index
return {'ok', 0}
"""

_RESERVE_HANDOFF = """
-- KEYS: slot   ARGV: thread, ttl, replaceable (a stale holder, or '')
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] and held ~= ARGV[3] then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""

_RELEASE_HANDOFF = """
-- KEYS: slot   ARGV: thread
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Verdict(StrEnum):
    OK = "ok"
    TOO_FAST = "too_fast"  # over the per-minute limit: tell them (once per minute)
    QUIET = "quiet"  # over the limit and already told this minute
    TOO_MANY_THREADS = "too_many_threads"  # a new conversation beyond USER_MAX_OPEN_THREADS


class Limits:
    """The per-person checks; built from settings and passed to the ingress, actions and hand-off."""

    def __init__(
        self, redis: Redis, *, messages_per_minute: int, max_open_threads: int, index_ttl_seconds: int
    ) -> None:
        self._redis = redis
        self._per_minute = messages_per_minute
        self._max_open = max_open_threads
        self._index_ttl = index_ttl_seconds
        self._check = redis.register_script(_CHECK_MESSAGE)
        self._reserve = redis.register_script(_RESERVE_HANDOFF)
        self._release = redis.register_script(_RELEASE_HANDOFF)

    @property
    def max_open_threads(self) -> int:
        return self._max_open

    async def check_message(self, user: str, thread_key: str, *, opens_thread: bool, now: float) -> Verdict:
        """Count one message of `user` in `thread_key`; a thread they open joins their index."""
        verdict, _ = await self.check_call(user, thread_key, opens_thread=opens_thread, now=now).run()
        return Verdict(as_text(verdict))

    def check_call(self, user: str, thread_key: str, *, opens_thread: bool, now: float) -> ScriptCall:
        """`check_message` as a call (the ingress runs it as one with the message's other steps).
        Its third argument is whether the message opens a thread ('1' or '0')."""
        return ScriptCall(
            self._check,
            [rate_key(user, math.floor(now / 60)), user_threads_key(user)],
            [
                self._per_minute,
                thread_key,
                "1" if opens_thread else "0",
                now,
                now - OPEN_THREAD_WINDOW_SECONDS,
                self._max_open,
                self._index_ttl,
            ],
        )

    async def first_time(self, request_id: str) -> bool:
        """True the first time a command's or button's id is seen; False for a replay of it."""
        if not request_id:
            return True  # nothing to recognise it by: let it through rather than drop a real press
        return bool(await self._redis.set(replay_key(request_id), 1, nx=True, ex=REPLAY_TTL_SECONDS))

    async def reserve_handoff(self, user: str, thread_key: str, *, ttl_seconds: int, replace: str = "") -> str | None:
        """Make `thread_key` the user's one open hand-off; returns the thread holding it instead, if any.
        `replace` names a holder known to be stale (its hand-off ended without releasing the slot)."""
        held = await self._reserve(keys=[handoff_key(user)], args=[thread_key, ttl_seconds, replace])
        return as_text(held) if held else None

    async def release_handoff(self, user: str, thread_key: str) -> None:
        await self._release(keys=[handoff_key(user)], args=[thread_key])
