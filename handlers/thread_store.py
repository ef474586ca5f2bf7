"""A thread's memory in Redis: its turns, its queue of unanswered messages, its lease and its state.

Keys (all share the hash tag `{channel:thread_ts}`, so every script below touches one cluster slot):

    sarah:{C:ts}:state     HASH  who owns the thread, failure count, the "typing…" placeholder …
    sarah:{C:ts}:turns     LIST  JSON turns, oldest first, capped at MAX_STORED_TURNS
    sarah:{C:ts}:queue     HASH  message ts → queued message not answered yet
    sarah:{C:ts}:answered  SET   ts of every message already answered (the "reply posted" marker)
    sarah:{C:ts}:lease     STRING  the token of the one worker answering this thread right now
    sarah:{C:ts}:failed    SET   what already counted as a failure (see handlers/ownership.py)
    sarah:{C:ts}:held      HASH  message ts → "<held at, ms> <payload>": replies that came before
                                 the thread's opening message (see `accept`); its TTL is
                                 twice HOLD_UNKNOWN_THREAD_SECONDS, not the retention TTL

Every key but the lease carries the retention TTL, refreshed on activity. Each read-modify-write is
one Lua script that receives all its keys in KEYS.

Per person (hash tag `{user:U…}`, written by handlers/limits.py at the ingress):

    sarah:{user:U}:threads  ZSET  thread key → the person's last message in a thread they opened:
                                  how `/sarah` finds "your thread" and `forget` finds what to delete
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis

from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.text_clean import clean

log = logging.getLogger(__name__)

_ACCEPT = """
-- KEYS: state, queue, answered, lease, held
-- ARGV: ts, payload, kind, token, lease_ms, ttl, now, customer, hold_ms, now_ms
-- A thread reply in a thread with no state yet may have overtaken the thread's opening message
-- (Slack retrying the @mention): it is held, and moved into the queue by the opening message if
-- that comes within hold_ms and the reply is newer than it. Returns {status, promoted, dropped}.
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'done', 0, 0} end
local hold_ms = tonumber(ARGV[9])
local now_ms = tonumber(ARGV[10])
if ARGV[3] == 'thread_reply' then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    if hold_ms <= 0 then return {'not_ours', 0, 0} end
    local earlier = redis.call('HGET', KEYS[5], ARGV[1])
    if earlier then
      -- held before (a redelivery): past its time it is not ours after all
      if tonumber(string.match(earlier, '^(%d+) ')) + hold_ms < now_ms then
        redis.call('HDEL', KEYS[5], ARGV[1])
        return {'not_ours', 0, 1}
      end
      return {'held', 0, 0}
    end
    -- replies held too long are dropped here (and counted, so the drop is logged); the key lives
    -- twice the hold so that they are still there to count, then expires with whatever is left
    local dropped = 0
    local items = redis.call('HGETALL', KEYS[5])
    for i = 1, #items, 2 do
      if tonumber(string.match(items[i + 1], '^(%d+) ')) + hold_ms < now_ms then
        redis.call('HDEL', KEYS[5], items[i])
        dropped = dropped + 1
      end
    end
    redis.call('HSET', KEYS[5], ARGV[1], ARGV[10] .. ' ' .. ARGV[2])
    if redis.call('PTTL', KEYS[5]) < 2 * hold_ms then redis.call('PEXPIRE', KEYS[5], 2 * hold_ms) end
    return {'held', 0, dropped}
  end
else
  if redis.call('HSETNX', KEYS[1], 'created_at', ARGV[7]) == 1 then
    redis.call('HSET', KEYS[1], 'owner', 'bot', 'customer', ARGV[8], 'kind', ARGV[3])
  end
end
local promoted, dropped = 0, 0
if ARGV[3] ~= 'thread_reply' and redis.call('EXISTS', KEYS[5]) == 1 then
  local sec, frac = string.match(ARGV[1], '^(%d+)%.?(%d*)$')
  sec, frac = tonumber(sec) or 0, tonumber(frac) or 0
  local items = redis.call('HGETALL', KEYS[5])
  for i = 1, #items, 2 do
    local rsec, rfrac = string.match(items[i], '^(%d+)%.?(%d*)$')
    rsec, rfrac = tonumber(rsec) or 0, tonumber(rfrac) or 0
    local held_at, payload = string.match(items[i + 1], '^(%d+) (.*)$')
    local newer = rsec > sec or (rsec == sec and rfrac > frac)
    if newer and tonumber(held_at) + hold_ms >= now_ms then
      redis.call('HSET', KEYS[2], items[i], payload)
      promoted = promoted + 1
    else
      dropped = dropped + 1
    end
  end
  redis.call('DEL', KEYS[5])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
if redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[5]) then return {'leased', promoted, dropped} end
-- the lease is already this call's own: a retry of this script after its reply was lost
if redis.call('GET', KEYS[4]) == ARGV[4] then return {'leased', promoted, dropped} end
return {'queued', promoted, dropped}
"""

_RENEW = """
-- KEYS: lease   ARGV: token, lease_ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE_IF_IDLE = """
-- KEYS: queue, lease   ARGV: token
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'lost' end
if redis.call('HLEN', KEYS[1]) > 0 then return 'more' end
redis.call('DEL', KEYS[2])
return 'released'
"""

_COMMIT = """
-- KEYS: state, turns, queue, answered
-- ARGV: ttl, max_turns, now, n_answered, ts…, turn json…
local n = tonumber(ARGV[4])
for i = 5, 4 + n do
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('SADD', KEYS[4], ARGV[i])
end
for i = 5 + n, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('HDEL', KEYS[1], 'placeholder', 'reply_pass', 'reply_since', 'reply_parts')
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
for i = 1, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
end
return n
"""


class Accepted(StrEnum):
    LEASED = "leased"  # queued, and this worker now answers the thread
    QUEUED = "queued"  # queued; the worker holding the lease will answer it
    DONE = "done"  # already answered (a redelivery): acknowledge it
    NOT_OURS = "not_ours"  # a reply in a channel thread Sarah is not part of: acknowledge it
    HELD = "held"  # a reply in a thread not known yet, kept for its opening message: acknowledge it


class Release(StrEnum):
    RELEASED = "released"
    MORE = "more"  # new messages arrived: keep answering
    LOST = "lost"  # the lease expired and may be someone else's now


@dataclass(frozen=True, slots=True)
class Pending:
    """A queued message and the stream entry to acknowledge once it is answered."""

    message: InboundMessage
    entry_id: str


@dataclass(frozen=True, slots=True)
class StoredTurn:
    role: str  # "user" | "assistant" | "agent" (a support person) | "marker" (a new episode starts)
    content: str
    ts: str = ""
    user: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {"role": self.role, "content": self.content, "ts": self.ts, "user": self.user},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> StoredTurn:
        data = json.loads(raw)
        # cleaned on read too: a turn stored before the ingress cleaned texts must not poison every pass
        return cls(data["role"], clean(data["content"]), data.get("ts", ""), data.get("user", ""))


def thread_keys(thread: ThreadRef) -> dict[str, str]:
    tag = "sarah:{" + thread.key + "}:"
    return {name: tag + name for name in ("state", "turns", "queue", "answered", "lease", "failed", "held")}


def user_threads_key(user: str) -> str:
    """The index of the threads `user` opened (they are each one's customer), newest activity highest."""
    return "sarah:{user:" + user + "}:threads"


def parse_thread_key(key: str) -> ThreadRef:
    channel, _, thread_ts = key.partition(":")
    return ThreadRef(channel, thread_ts)


class ThreadStore:
    """Reads and writes one thread's keys; every multi-key change is a single Lua script."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int,
        max_turns: int,
        lease_seconds: float,
        hold_unknown_thread_seconds: float = 120,
    ) -> None:
        self._redis = redis
        self._hold_ms = int(hold_unknown_thread_seconds * 1000)
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._lease_ms = int(lease_seconds * 1000)
        self._accept = redis.register_script(_ACCEPT)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE_IF_IDLE)
        self._commit = redis.register_script(_COMMIT)

    async def accept(self, message: InboundMessage, entry_id: str, token: str, now: float) -> Accepted:
        keys = thread_keys(message.thread)
        payload = json.dumps({"m": message.to_json(), "e": entry_id}, separators=(",", ":"))
        status, promoted, dropped = await self._accept(
            keys=[keys["state"], keys["queue"], keys["answered"], keys["lease"], keys["held"]],
            args=[
                message.ts,
                payload,
                message.kind.value,
                token,
                self._lease_ms,
                self._ttl,
                now,
                message.user,
                self._hold_ms,
                int(now * 1000),
            ],
        )
        accepted = Accepted(as_text(status))
        if accepted is Accepted.HELD:
            log.info(
                "held a reply that came before its thread's opening message", extra={"thread_key": message.thread.key}
            )
        if int(promoted):
            log.info(
                "answering %d held replies after the thread's opening message",
                int(promoted),
                extra={"thread_key": message.thread.key},
            )
        if int(dropped):
            log.info(
                "dropped %d held replies: not ours (older than the opening message, or held too long)",
                int(dropped),
                extra={"thread_key": message.thread.key},
            )
        return accepted

    async def pending(self, thread: ThreadRef) -> list[Pending]:
        """Unanswered messages of the thread, oldest first."""
        raw = await self._redis.hgetall(thread_keys(thread)["queue"])
        items = []
        for ts, value in raw.items():
            data = json.loads(value)
            items.append((as_text(ts), Pending(InboundMessage.from_json(data["m"]), data["e"])))
        return [pending for _, pending in sorted(items, key=lambda item: _ts_order(item[0]))]

    async def pending_count(self, thread: ThreadRef) -> int:
        return int(await self._redis.hlen(thread_keys(thread)["queue"]))

    async def history(self, thread: ThreadRef) -> list[StoredTurn]:
        raw = await self._redis.lrange(thread_keys(thread)["turns"], 0, -1)
        return [StoredTurn.from_json(item) for item in raw]

    async def episode(self, thread: ThreadRef) -> list[StoredTurn]:
        """The customer's and Sarah's turns since the last episode marker (a hand-back or a reset)."""
        turns = await self.history(thread)
        starts = [i for i, turn in enumerate(turns) if turn.role == "marker"]
        current = turns[starts[-1] + 1 :] if starts else turns
        return [turn for turn in current if turn.role in ("user", "assistant")]

    async def state(self, thread: ThreadRef) -> dict[str, str]:
        raw = await self._redis.hgetall(thread_keys(thread)["state"])
        return {as_text(k): as_text(v) for k, v in raw.items()}

    async def set_fields(self, thread: ThreadRef, **fields: str | int | float) -> None:
        key = thread_keys(thread)["state"]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=dict(fields))  # type: ignore[arg-type]
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def commit(self, thread: ThreadRef, answered: list[Pending], turns: list[StoredTurn], now: float) -> None:
        """Record the answer: the new turns, the answered markers, and the queue emptied of them."""
        keys = thread_keys(thread)
        await self._commit(
            keys=[keys["state"], keys["turns"], keys["queue"], keys["answered"]],
            args=[
                self._ttl,
                self._max_turns,
                now,
                len(answered),
                *[p.message.ts for p in answered],
                *[t.to_json() for t in turns],
            ],
        )

    async def exists(self, thread: ThreadRef) -> bool:
        """Has Sarah a state for this thread (is she part of it)?"""
        return bool(await self._redis.exists(thread_keys(thread)["state"]))

    async def increment(self, thread: ThreadRef, field: str) -> int:
        """Add one to a counter in the thread's state (e.g. reminders sent); returns the new value."""
        return int(await self._redis.hincrby(thread_keys(thread)["state"], field, 1))

    async def own_threads(self, user: str, channel: str) -> list[ThreadRef]:
        """Threads `user` opened in `channel`, the one they wrote in last first (from the index)."""
        members = await self._redis.zrevrange(user_threads_key(user), 0, 999)
        prefix = channel + ":"
        return [parse_thread_key(as_text(m)) for m in members if as_text(m).startswith(prefix)]

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        return bool(await self._renew(keys=[thread_keys(thread)["lease"]], args=[token, self._lease_ms]))

    async def release_if_idle(self, thread: ThreadRef, token: str) -> Release:
        keys = thread_keys(thread)
        return Release(as_text(await self._release(keys=[keys["queue"], keys["lease"]], args=[token])))


def as_text(value: Any) -> str:
    """Redis replies are bytes unless the client decodes them: one place turns them into text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _ts_order(ts: str) -> tuple[int, int]:
    """Slack's ts in time order; a malformed one (queued before the ingress checked them) sorts
    first instead of failing every pass of its thread."""
    seconds, _, micros = ts.partition(".")
    if not (seconds.isdigit() and (micros.isdigit() or not micros)):
        return (0, 0)
    return (int(seconds), int(micros or 0))


__all__ = [
    "Accepted",
    "Kind",
    "Pending",
    "Release",
    "StoredTurn",
    "ThreadStore",
    "as_text",
    "parse_thread_key",
    "thread_keys",
    "user_threads_key",
]
