"""Hand-offs as Sarah's Redis keeps them, read for learning: each thread's state, turns and failures.

Read-only. Threads are found by scanning `sarah:{…}:state` keys (SCAN, in batches: it never blocks
the server); a card's own thread (which only relays) is skipped. People who used `forget` are
recognised by their digest (`FORGOTTEN_PEOPLE`): a conversation they took part in is never returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from handlers.handoff import REOPENED_MARKER
from handlers.store.forget import person_digest
from handlers.store.keys import FORGOTTEN_PEOPLE, thread_keys
from handlers.store.values import StoredTurn, as_text, parse_thread_key
from handlers.thread_state import Owner, ThreadState

STATE_PATTERN = "sarah:{*}:state"


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of a thread between episode markers, and how it ended."""

    turns: tuple[StoredTurn, ...]
    resolved: bool  # the support team marked it resolved


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """A thread Sarah kept: who it is for, its hand-off, its episodes and the answers that did not help."""

    key: str  # channel:thread_ts
    customer: str
    state: ThreadState
    episodes: tuple[Episode, ...]
    not_helped: frozenset[str]  # ts of Sarah's answers the customer said did not help

    @property
    def handed_off(self) -> bool:
        return bool(self.state.escalated_at or self.state.handoff_reason)


@dataclass(frozen=True, slots=True)
class Reading:
    threads: list[ThreadRecord]
    skipped_forgotten: int  # conversations left out because someone in them used forget


def episodes_of(turns: list[StoredTurn], owner: Owner) -> tuple[Episode, ...]:
    """The thread's episodes; one ended resolved when the customer came back after it, or the thread is resolved now."""
    episodes: list[Episode] = []
    current: list[StoredTurn] = []
    for turn in turns:
        if turn.role == "marker":
            episodes.append(Episode(tuple(current), resolved=turn.content == REOPENED_MARKER))
            current = []
        else:
            current.append(turn)
    episodes.append(Episode(tuple(current), resolved=owner is Owner.RESOLVED))
    return tuple(e for e in episodes if e.turns)


async def read_threads(redis: Redis, *, batch: int = 500) -> Reading:
    """Every customer thread in Redis, without those of people who used forget."""
    forgotten = {as_text(d) for d in await redis.smembers(FORGOTTEN_PEOPLE)}
    threads: list[ThreadRecord] = []
    skipped = 0
    async for raw_key in redis.scan_iter(match=STATE_PATTERN, count=batch):
        key = as_text(raw_key)
        thread_key = key[len("sarah:{") : -len("}:state")]
        thread = parse_thread_key(thread_key)
        names = thread_keys(thread)
        raw = await redis.hgetall(key)
        state = ThreadState.from_redis({as_text(k): as_text(v) for k, v in raw.items()})
        if state.relay_to or not state.customer:
            continue  # a card's thread, or a thread nobody opened as a customer
        turns = [StoredTurn.from_json(item) for item in await redis.lrange(names.turns, 0, -1)]
        people = {state.customer} | {t.user for t in turns if t.user}
        if any(person_digest(p) in forgotten for p in people):
            skipped += 1
            continue
        failed = {as_text(m) for m in await redis.smembers(names.failed)}
        threads.append(
            ThreadRecord(
                key=thread_key,
                customer=state.customer,
                state=state,
                episodes=episodes_of(turns, state.owner),
                not_helped=frozenset(m.removeprefix("answer:") for m in failed if m.startswith("answer:")),
            )
        )
    threads.sort(key=lambda t: t.key)
    return Reading(threads, skipped)
