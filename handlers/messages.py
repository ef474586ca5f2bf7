"""What the pipeline knows of a customer message: plain data, no Slack types.

A thread is keyed by channel id and thread ts: channel ids are unique across workspaces (Slack
Connect included), while a message's `team` is the sender's workspace, not the channel's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handlers.text_clean import clean


class Kind(StrEnum):
    DM = "dm"  # a direct message to Sarah; top-level ones continue the customer's current DM conversation
    MENTION = "mention"  # @Sarah in a channel; she answers in a thread under it
    THREAD_REPLY = "thread_reply"  # a reply in a channel thread, answered only if Sarah is part of it
    FEEDBACK = "feedback"  # the customer pressed Helped / Didn't help; `ref` is the answer's ts
    COMMAND = "command"  # `/sarah human` and the like, queued into the thread it is about


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """A conversation and the Slack thread Sarah posts its answers in.

    Usually both are one thread. In a DM, one conversation spans several top-level messages (see
    bot/slack/front_door.py): `thread_ts` is then the thread of the message being answered (Sarah replies
    under it) and `conversation_ts` the ts of the conversation's first message, which keys Redis.
    """

    channel: str
    thread_ts: str
    team: str = ""
    conversation_ts: str = ""  # "": the conversation is the thread itself

    @property
    def key(self) -> str:
        """The Redis hash tag body: every key of one thread lands in the same cluster slot."""
        return f"{self.channel}:{self.conversation_ts or self.thread_ts}"

    @property
    def is_dm(self) -> bool:
        return self.channel.startswith("D")


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file the customer shared: its name and Slack permalink only (the file is never downloaded)."""

    name: str
    permalink: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer message, as queued by the ingress and read by the worker."""

    thread: ThreadRef
    ts: str
    user: str
    text: str
    kind: Kind
    has_files: bool = False
    event_id: str = ""
    ref: str = ""  # FEEDBACK: the ts of the answer being rated
    external: bool = False  # from another organisation (Slack Connect): a customer, never support
    cut_from: int = 0  # the text was longer than MAX_MESSAGE_CHARS: its length before the cut
    files: tuple[SharedFile, ...] = ()  # with files:read, what the customer shared (name, permalink)

    @property
    def files_only(self) -> bool:
        return self.has_files and not self.text.strip()

    def to_json(self) -> str:
        # by hand rather than dataclasses.asdict, whose deep copy was a visible share of a reply's CPU
        t = self.thread
        data: dict[str, Any] = {
            "thread": {
                "channel": t.channel,
                "thread_ts": t.thread_ts,
                "team": t.team,
                "conversation_ts": t.conversation_ts,
            },
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "kind": self.kind.value,
            "has_files": self.has_files,
            "event_id": self.event_id,
            "ref": self.ref,
            "external": self.external,
            "cut_from": self.cut_from,
            "files": [{"name": f.name, "permalink": f.permalink} for f in self.files],
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> InboundMessage:
        data = json.loads(raw)
        return cls(
            thread=ThreadRef(**data["thread"]),
            ts=data["ts"],
            user=data["user"],
            text=clean(data["text"]),  # also entries queued before the ingress cleaned texts
            kind=Kind(data["kind"]),
            has_files=bool(data.get("has_files", False)),
            event_id=data.get("event_id", ""),
            ref=data.get("ref", ""),
            external=bool(data.get("external", False)),
            cut_from=int(data.get("cut_from", 0)),
            files=tuple(
                SharedFile(clean(str(f.get("name", "")))[:200], str(f.get("permalink", ""))[:500])
                for f in data.get("files") or ()
                if isinstance(f, dict)
            ),
        )
