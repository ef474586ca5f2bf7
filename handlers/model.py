"""The one interface between the pipeline and any language model.

`Model.reply(conversation)` takes the system prompt plus the thread's turns and returns a `Reply`.
Every implementation (the OpenAI-compatible one, the offline one) signals "I cannot resolve this"
the same way: `Outcome.HANDOFF` with a reason from `handlers.prompt.HANDOFF_REASONS`, because the
fine-tuned model learned to call the `handoff_to_human` tool. A failed call is not an exception
but `Outcome.UNAVAILABLE`, so the pipeline can count it as a failure and keep going.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation as the model sees it."""

    role: Role
    content: str
    name: str = ""  # the speaker in a channel thread (customer, other_participant, support_agent)


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a model is asked: the system prompt and the turns, oldest first."""

    system: str
    turns: tuple[Turn, ...]

    def as_messages(self) -> list[dict[str, str]]:
        """The chat-completions `messages` list (a turn's `name` only when it has one: DMs have none)."""
        return [{"role": "system", "content": self.system}] + [
            {"role": t.role, "content": t.content, "name": t.name} if t.name else {"role": t.role, "content": t.content}
            for t in self.turns
        ]


class Outcome(StrEnum):
    ANSWERED = "answered"  # text is an answer for the customer
    HANDOFF = "handoff"  # the model asked for a human (reason says why)
    UNAVAILABLE = "unavailable"  # the call failed after retries, or the reply was unusable


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    outcome: Outcome = Outcome.ANSWERED
    reason: str = ""  # a HANDOFF_REASONS value, or what went wrong for UNAVAILABLE
    summary: str = ""  # the model's one-line summary for support, when it gave one
    usage: dict[str, int] = field(default_factory=dict)


class Model(Protocol):
    """Anything that can answer a conversation."""

    name: str

    async def reply(self, conversation: Conversation) -> Reply: ...
