"""Who answers a thread, and how often Sarah has failed in it: state kept in Redis, changed atomically.

One owner per thread: `bot → waiting → human → bot` (or `resolved`), with who changed it and when.
A change names the owners it may start from, so two agents pressing Claim at once cannot both win,
and an answer drafted before a hand-off is never sent after it (the pipeline reads the owner right
before every send). Failures are counted once per key (one customer message, or one answer), so
a "Didn't help" press and "that didn't work" about the same answer count once.

Reminders for unclaimed cards are a sorted set (thread key → due time) that any worker may pop.

The service-level times of a hand-off (who claimed it and when, a person's first answer, the
resolution) are fields of the same state hash, written by `service_event` once each per hand-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from handlers.hooks import NO_HOOKS, OwnershipHooks
from handlers.messages import ThreadRef
from handlers.store.keys import REMINDERS, thread_keys
from handlers.store.thread_state import Owner as Owner  # re-exported: where ownership is decided
from handlers.store.thread_state import ServiceTimes as ServiceTimes  # re-exported: what `service_event` returns
from handlers.store.thread_store import StoredTurn, as_text

_TRANSITION = """
-- KEYS: state, turns, failed
-- ARGV: from (comma list), to, by, now, reset_failures, ttl, max_turns, n_turns, turn json…, field, value…
local owner = redis.call('HGET', KEYS[1], 'owner') or 'bot'
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == owner then allowed = true end end
if not allowed then return {0, owner} end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'owner_by', ARGV[3], 'owner_at', ARGV[4])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'failures', 0)
  redis.call('DEL', KEYS[3])
end
local n = tonumber(ARGV[8])
for i = 9, 8 + n do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if n > 0 then redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1) end
for i = 9 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 1, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[6]) end
end
return {1, owner}
"""

_RECORD_FAILURE = """
-- KEYS: state, failed   ARGV: key, ttl
-- Returns {counted, failures, first time the customer said an answer did not help in this thread}.
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'failures') or '0'), 0}
end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local unsolved = 0
if string.sub(ARGV[1], 1, 7) == 'answer:' then unsolved = redis.call('HSETNX', KEYS[1], 'not_solved', '1') end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return {1, n, unsolved}
"""

_POP_DUE = """
-- KEYS: reminders   ARGV: now, limit
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
return due
"""


_SERVICE_EVENT = """
-- KEYS: state   ARGV: event (opened | claimed | answered | closed), by, now, resolved (1/0)
-- Returns {escalated_at, first_response_at, reason[, first hand-off of the thread]} when the event was
-- recorded, {} when it was not. A thread handed off (or whose customer said an answer did not help,
-- see _RECORD_FAILURE) is marked not_solved once: it does not count as solved by Sarah.
local open = redis.call('HGET', KEYS[1], 'sla_open')
local event = ARGV[1]
if event == 'opened' then
  local unsolved = redis.call('HSETNX', KEYS[1], 'not_solved', '1')
  redis.call('HDEL', KEYS[1], 'claimed_by', 'claimed_at', 'first_response_at', 'first_response_by', 'resolved_at',
    'warned_first_response', 'warned_resolution', 'breached_first_response', 'breached_resolution')
  redis.call('HSET', KEYS[1], 'sla_open', '1')
  local reason = redis.call('HGET', KEYS[1], 'handoff_reason') or ''
  return {redis.call('HGET', KEYS[1], 'escalated_at') or '0', '0', reason, unsolved}
end
if open ~= '1' then return {} end
local at = redis.call('HGET', KEYS[1], 'escalated_at') or '0'
if event == 'claimed' then
  if redis.call('HSETNX', KEYS[1], 'claimed_by', ARGV[2]) == 0 then return {} end
  redis.call('HSET', KEYS[1], 'claimed_at', ARGV[3])
elseif event == 'answered' then
  if redis.call('HSETNX', KEYS[1], 'first_response_at', ARGV[3]) == 0 then return {} end
  redis.call('HSET', KEYS[1], 'first_response_by', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'sla_open')
  if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'resolved_at', ARGV[3]) end
end
local reason = redis.call('HGET', KEYS[1], 'handoff_reason') or ''
return {at, redis.call('HGET', KEYS[1], 'first_response_at') or '0', reason}
"""


@dataclass(frozen=True, slots=True)
class Transition:
    changed: bool
    previous: Owner


class OwnershipStore:
    def __init__(self, redis: Redis, *, ttl_seconds: int, max_turns: int, hooks: OwnershipHooks = NO_HOOKS) -> None:
        self._redis = redis
        self._hooks = hooks  # told of each change of hands, a first answer, an unsolved conversation
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._transition = redis.register_script(_TRANSITION)
        self._record_failure = redis.register_script(_RECORD_FAILURE)
        self._pop_due = redis.register_script(_POP_DUE)
        self._service_event = redis.register_script(_SERVICE_EVENT)

    async def owner(self, thread: ThreadRef) -> Owner:
        value = await self._redis.hget(thread_keys(thread).state, "owner")
        return Owner(as_text(value)) if value else Owner.BOT

    async def transition(
        self,
        thread: ThreadRef,
        *,
        allowed: tuple[Owner, ...],
        to: Owner,
        by: str,
        now: float,
        reset_failures: bool = False,
        turns: tuple[StoredTurn, ...] = (),
        **fields: str | int | float,
    ) -> Transition:
        """Move the thread to `to` if its owner is one of `allowed`; append `turns` and set `fields` too."""
        keys = thread_keys(thread)
        pairs: list[Any] = [item for pair in fields.items() for item in pair]
        changed, previous = await self._transition(
            keys=[keys.state, keys.turns, keys.failed],
            args=[
                ",".join(allowed),
                to.value,
                by,
                now,
                "1" if reset_failures else "0",
                self._ttl,
                self._max_turns,
                len(turns),
                *[t.to_json() for t in turns],
                *pairs,
            ],
        )
        moved = Transition(bool(changed), Owner(as_text(previous)))
        if moved.changed:
            reason = str(fields.get("handoff_reason", ""))
            await self._hooks.hands_changed(thread, moved.previous, to, by=by, now=now, reason=reason)
        return moved

    async def person_answered(self, thread: ThreadRef, by: str, now: float) -> ServiceTimes | None:
        """A person from the team answered the customer (in the thread or through the relay): the
        hand-off's first response if none was recorded yet (returned then), else nothing."""
        times = await self.service_event(thread, "answered", by=by, now=now)
        if times is not None:
            await self._hooks.person_answered(thread, times, by=by, now=now)
        return times

    async def service_event(
        self, thread: ThreadRef, event: str, *, by: str = "", now: float = 0.0, resolved: bool = False
    ) -> ServiceTimes | None:
        """Record `event` (opened, claimed, answered, closed) of the thread's open hand-off, once each.

        None when there is no open hand-off or the event was already recorded for this one."""
        reply = await self._service_event(
            keys=[thread_keys(thread).state], args=[event, by, now, "1" if resolved else "0"]
        )
        if not reply:
            return None
        first_unsolved = len(reply) > 3 and int(reply[3]) == 1
        return ServiceTimes(
            float(as_text(reply[0]) or 0), float(as_text(reply[1]) or 0), as_text(reply[2]), first_unsolved
        )

    async def record_failure(self, thread: ThreadRef, key: str) -> int:
        """Count a failure once per `key`; returns the thread's failure count after it."""
        keys = thread_keys(thread)
        _, count, unsolved = await self._record_failure(keys=[keys.state, keys.failed], args=[key, self._ttl])
        if int(unsolved):
            await self._hooks.conversation_unsolved(thread)
        return int(count)

    async def reset_failures(self, thread: ThreadRef) -> None:
        await self._redis.hset(thread_keys(thread).state, "failures", 0)

    async def remind_at(self, thread: ThreadRef, when: float) -> None:
        await self._redis.zadd(REMINDERS, {thread.key: when})

    async def cancel_reminder(self, thread: ThreadRef) -> None:
        await self._redis.zrem(REMINDERS, thread.key)

    async def pop_due_reminders(self, now: float, limit: int = 100) -> list[ThreadRef]:
        """Due reminders, each handed to exactly one caller (popping is atomic)."""
        due = await self._pop_due(keys=[REMINDERS], args=[now, limit])
        threads = []
        for member in due:
            channel, _, thread_ts = as_text(member).partition(":")
            threads.append(ThreadRef(channel=channel, thread_ts=thread_ts))
        return threads
