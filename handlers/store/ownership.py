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
from handlers.store.scripts import Script
from handlers.store.values import StoredTurn, as_text, parse_thread_key
from handlers.thread_state import Owner as Owner  # re-exported: where ownership is decided
from handlers.thread_state import ServiceTimes as ServiceTimes  # re-exported: what `service_event` returns


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
        self._transition = Script(redis, "ownership_transition")
        self._record_failure = Script(redis, "ownership_record_failure")
        self._pop_due = Script(redis, "reminders_pop_due")
        self._service_event = Script(redis, "ownership_service_event")

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
        return [parse_thread_key(as_text(member)) for member in due]
