"""The support team's numbers over time, kept in Redis for `sarah report` and the weekly digest.

Counters per UTC day (conversations Sarah started, hand-offs by reason, ratings) and one record per
closed hand-off (its reason, business-time first response and resolution, how it ended). Nothing
here names a person or a thread: the numbers outlive the conversations and need no forgetting.
Written only at rare moments (a new conversation, a hand-off event, a rating), never per message.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from handlers.store.keys import STATS_HANDOFFS, stats_day_key
from handlers.store.values import as_text

KEEP_DAYS = 400  # a year of weekly digests and reports, and a little more


@dataclass(frozen=True, slots=True)
class ClosedHandoff:
    reason: str
    escalated_at: float
    closed_at: float
    outcome: str  # resolved | handed_back
    first_response_seconds: float | None  # business time; None: nobody answered before it closed
    resolution_seconds: float | None  # business time; None: handed back rather than resolved

    def to_json(self) -> str:
        fields = {
            "reason": self.reason,
            "escalated_at": self.escalated_at,
            "closed_at": self.closed_at,
            "outcome": self.outcome,
            "first_response_seconds": self.first_response_seconds,
            "resolution_seconds": self.resolution_seconds,
            "id": secrets.token_hex(4),  # two hand-offs with equal times stay two members
        }
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> ClosedHandoff:
        d = json.loads(raw)
        return cls(
            str(d.get("reason", "")),
            float(d.get("escalated_at", 0)),
            float(d.get("closed_at", 0)),
            str(d.get("outcome", "")),
            _number(d.get("first_response_seconds")),
            _number(d.get("resolution_seconds")),
        )


@dataclass(slots=True)
class Period:
    """Everything counted between two instants."""

    since: float
    until: float
    conversations: int = 0
    unsolved: int = 0  # conversations handed off, or where an answer did not help
    handoffs: dict[str, int] = field(default_factory=dict)  # reason → count
    topics: dict[str, int] = field(default_factory=dict)  # knowledge-base section id → hand-offs about it
    ratings: dict[int, int] = field(default_factory=dict)  # 1…5 → count
    closed: list[ClosedHandoff] = field(default_factory=list)

    @property
    def handed_off(self) -> int:
        return sum(self.handoffs.values())

    @property
    def solved_by_sarah(self) -> int:
        """Conversations with no hand-off and no answer the customer said did not help."""
        return max(0, self.conversations - self.unsolved)


class ServiceStats:
    def __init__(self, redis: Redis, *, clock: Callable[[], float]) -> None:
        self._redis = redis
        self._clock = clock
        self._conversations = 0  # counted, not written yet: see `conversation_started`

    async def conversation_started(self) -> None:
        """Counted in memory and written by `flush` (on the reminders loop's beat, 30 s at most, and
        when Sarah stops): a conversation's first message costs no Redis round trip, so the hot path
        keeps its round trips per message. A killed process loses at most one beat's count."""
        self._conversations += 1

    @property
    def unwritten(self) -> int:
        """Conversations counted since the last successful flush."""
        return self._conversations

    async def flush(self) -> None:
        """Write the conversations counted since the last flush (kept for the next one on failure)."""
        pending, self._conversations = self._conversations, 0
        if not pending:
            return
        try:
            await self._count("conversations", pending)
        except BaseException:
            self._conversations += pending
            raise

    async def conversation_unsolved(self) -> None:
        """Counted once per conversation: its first hand-off, or the first answer that did not help."""
        await self._count("unsolved")

    async def handed_off(self, reason: str, topic: str = "") -> None:
        """A hand-off, by reason, and by topic when known (a knowledge-base section id: no customer words)."""
        await self._count(f"handoff:{reason or 'other'}")
        if topic:
            await self._count(f"topic:{topic}")

    async def rated(self, score: int) -> None:
        await self._count(f"rating:{score}")

    async def closed(self, record: ClosedHandoff) -> None:
        cutoff = record.closed_at - KEEP_DAYS * 86_400
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(STATS_HANDOFFS, {record.to_json(): record.closed_at})
            pipe.zremrangebyscore(STATS_HANDOFFS, "-inf", cutoff)
            pipe.expire(STATS_HANDOFFS, KEEP_DAYS * 86_400)
            await pipe.execute()

    async def period(self, since: float, until: float) -> Period:
        result = Period(since, until)
        days = _days(since, until)
        async with self._redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(stats_day_key(day))
            pipe.zrangebyscore(STATS_HANDOFFS, since, until)
            replies = await pipe.execute()
        for counters in replies[:-1]:
            for raw_name, raw_value in counters.items():
                name, value = as_text(raw_name), int(raw_value)
                if name == "conversations":
                    result.conversations += value
                elif name == "unsolved":
                    result.unsolved += value
                elif name.startswith("handoff:"):
                    reason = name.removeprefix("handoff:")
                    result.handoffs[reason] = result.handoffs.get(reason, 0) + value
                elif name.startswith("topic:"):
                    topic = name.removeprefix("topic:")
                    result.topics[topic] = result.topics.get(topic, 0) + value
                elif name.startswith("rating:") and name.removeprefix("rating:").isdigit():
                    score = int(name.removeprefix("rating:"))
                    result.ratings[score] = result.ratings.get(score, 0) + value
        result.closed = [ClosedHandoff.from_json(as_text(m)) for m in replies[-1]]
        return result

    async def _count(self, name: str, amount: int = 1) -> None:
        key = stats_day_key(_day(self._clock()))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, name, amount)
            pipe.expire(key, KEEP_DAYS * 86_400)
            await pipe.execute()


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def _days(since: float, until: float) -> list[str]:
    """The UTC days the period touches (whole days are counted: counters are per day); a period
    that ends at midnight does not touch the day that starts then."""
    first = datetime.fromtimestamp(since, UTC).date()
    last = datetime.fromtimestamp(max(since, until - 0.001), UTC).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
