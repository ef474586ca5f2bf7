"""The values the stores take and return, with no Redis client behind them.

A module that passes a pass's snapshot, a queued message or a stored turn around (the pipeline, the
worker, the hand-off, training's harvest) imports them from here, not the store that reads them
from Redis (handlers/store/thread_store.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handlers.messages import InboundMessage, ThreadRef
from handlers.text_clean import clean
from handlers.thread_state import Owner, ThreadState


class Accepted(StrEnum):
    LEASED = "leased"  # queued, and this worker now answers the thread
    QUEUED = "queued"  # queued; the worker holding the lease will answer it
    DONE = "done"  # already answered (a redelivery): acknowledge it
    NOT_OURS = "not_ours"  # a reply in a channel thread Sarah is not part of, or a press on one that is gone
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
class Snapshot:
    """What a pass reads in its one round trip (`ThreadStore.begin`): the state as it was before the
    pass, the messages waiting, the stored turns, and the reply tag when the pass recorded it."""

    state: ThreadState
    pending: list[Pending]
    turns: list[StoredTurn]
    tag: str = ""  # "": an earlier pass's tag is still recorded in `state.reply_pass` (or nothing waits)
    tagged_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Committed:
    """What `ThreadStore.commit` did with the lease (None: it was asked to keep it), and when messages
    wait, the next pass's read."""

    release: Release | None
    next: Snapshot | None = None
    entry_ids: tuple[str, ...] = ()  # the answered messages' stream entries, as the queue held them


@dataclass(frozen=True, slots=True)
class SendCheck:
    """Read right before a send: who owns the thread, how many messages wait in its queue, and
    those of them that arrived after the ones being answered (oldest first)."""

    owner: Owner
    waiting: int
    arrived: list[Pending]
    ours: bool = True  # the pass's lease is still its own (always True when no token was checked)


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


def episode_of(turns: list[StoredTurn]) -> list[StoredTurn]:
    """The customer's and Sarah's turns since the last episode marker (a hand-back or a reset)."""
    starts = [i for i, turn in enumerate(turns) if turn.role == "marker"]
    current = turns[starts[-1] + 1 :] if starts else turns
    return [turn for turn in current if turn.role in ("user", "assistant")]


def located(thread: ThreadRef, reply_ts: str) -> ThreadRef:
    """`thread` pointing at where Sarah answers now: in a DM conversation, the thread of the
    customer's latest message (`reply_ts`, recorded by `accept`); elsewhere the thread itself."""
    if not thread.is_dm or not reply_ts or reply_ts == thread.thread_ts:
        return thread
    conversation = thread.conversation_ts or thread.thread_ts
    return ThreadRef(thread.channel, reply_ts, thread.team, "" if reply_ts == conversation else conversation)


def parse_thread_key(key: str) -> ThreadRef:
    """The thread a `ThreadRef.key` ("C123:1700000000.000100") names: the one way a stored key is read back."""
    channel, _, thread_ts = key.partition(":")
    return ThreadRef(channel, thread_ts)


def as_text(value: Any) -> str:
    """Redis replies are bytes unless the client decodes them: one place turns them into text."""
    return value.decode() if isinstance(value, bytes) else str(value)
