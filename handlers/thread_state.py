"""What a thread's `state` hash holds, as one typed object instead of a `dict[str, str]`.

Redis stores every field as a string; `ThreadState.from_redis` turns them into what the code means
(an `Owner`, a `CardRef`, numbers, the list of posted parts) in one place, so the pipeline and the
hand-off read `state.owner` instead of repeating `Owner(state.get("owner", "bot"))`. The fields are
written by `ThreadStore.set_fields` and the Lua scripts of `handlers/store/ownership.py` and
`handlers/store/thread_store.py`; the names below are the hash's field names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from handlers.messages import SharedFile


class Owner(StrEnum):
    BOT = "bot"
    WAITING = "waiting"  # handed off, no agent yet
    HUMAN = "human"  # an agent has it
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where an escalation card lives (the support channel and the card's ts)."""

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    """What `OwnershipStore.service_event` saw: when the hand-off was made and when a person first
    answered (0: not yet)."""

    escalated_at: float
    first_response_at: float
    reason: str
    first_unsolved: bool = False  # "opened": the thread's first reason not to count it as solved by Sarah


@dataclass(slots=True)
class ThreadState:
    """One read of a thread's state; a pass updates its copy as it records fields (see the pipeline)."""

    owner: Owner = Owner.BOT
    owner_by: str = ""  # who made the last ownership change (the `by` of `OwnershipStore.transition`)
    owner_at: float = 0.0
    customer: str = ""  # the person who opened the thread: only they rate answers, only their hand-off counts
    failures: int = 0
    failures_at_handoff: int | None = None
    handoff_reason: str = ""  # a HandoffReason value
    summary: str = ""
    escalated_at: float = 0.0
    card: CardRef | None = None
    relay_to: str = ""  # set on a card's thread: the customer's thread its lines are relayed to
    placeholder: str = ""  # the "typing…" message (or a streamed answer) this answer replaces
    reply_pass: str = ""  # the tag of the answer being posted (one visible answer across a crash)
    reply_since: float = 0.0
    reply_at: str = ""  # the thread ts the tagged answer is posted in ("": the thread itself), recorded with the tag
    reply_parts: list[str] = field(default_factory=list)  # ts of parts 2… of a split answer
    stream_ts: str = ""  # a streamed answer in flight
    reply_ts: str = ""  # a DM conversation: the thread of the customer's latest message (answers go there)
    history_read: bool = False  # the thread's earlier messages were read once, at a first mention
    files: tuple[SharedFile, ...] = ()
    claimed_by: str = ""  # the service-level times of the latest hand-off (0: not yet)
    claimed_at: float = 0.0
    first_response_at: float = 0.0
    first_response_by: str = ""
    resolved_at: float = 0.0
    rating: int = 0  # the customer's rating after the latest resolve, 1–5 (0: none)

    @classmethod
    def from_redis(cls, raw: Mapping[str, str]) -> ThreadState:
        card_channel, card_ts = raw.get("card_channel", ""), raw.get("card_ts", "")
        at_handoff = raw.get("failures_at_handoff")
        return cls(
            owner=Owner(raw.get("owner") or Owner.BOT),
            owner_by=raw.get("owner_by", ""),
            owner_at=float(raw.get("owner_at") or 0),
            customer=raw.get("customer", ""),
            failures=int(raw.get("failures") or 0),
            failures_at_handoff=int(at_handoff) if at_handoff else None,
            handoff_reason=raw.get("handoff_reason", ""),
            summary=raw.get("summary", ""),
            escalated_at=float(raw.get("escalated_at") or 0),
            card=CardRef(card_channel, card_ts) if card_channel and card_ts else None,
            relay_to=raw.get("relay_to", ""),
            placeholder=raw.get("placeholder", ""),
            reply_pass=raw.get("reply_pass", ""),
            reply_since=float(raw.get("reply_since") or 0),
            reply_at=raw.get("reply_at", ""),
            reply_parts=list(json.loads(raw.get("reply_parts") or "[]")),
            stream_ts=raw.get("stream_ts", ""),
            reply_ts=raw.get("reply_ts", ""),
            history_read=bool(raw.get("history_read")),
            files=shared_files(raw),
            claimed_by=raw.get("claimed_by", ""),
            claimed_at=float(raw.get("claimed_at") or 0),
            first_response_at=float(raw.get("first_response_at") or 0),
            first_response_by=raw.get("first_response_by", ""),
            resolved_at=float(raw.get("resolved_at") or 0),
            rating=int(raw.get("rating") or 0),
        )


def shared_files(state: Mapping[str, str]) -> tuple[SharedFile, ...]:
    """The files recorded in a thread's state by `ThreadStore.add_files`."""
    try:
        items = json.loads(state.get("files") or "[]")
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(SharedFile(str(f.get("name", "")), str(f.get("permalink", ""))) for f in items if isinstance(f, dict))
