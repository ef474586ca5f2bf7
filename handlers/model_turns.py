"""What the model is shown of each turn of a thread (see handlers/pipeline.py for when it is asked).

A customer's message is stored as the model will read it (`customer_turns`): a file Sarah cannot
open, or a mention without words, becomes a line that says so. In a channel thread each turn also
says who spoke, and nobody can type a label to pose as another speaker (handlers/speaker_labels.py).
"""

from __future__ import annotations

from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.model import Turn
from handlers.speaker_labels import AGENT_LABEL, OTHER_LABEL, defused
from handlers.store.values import Pending, StoredTurn

FILE_NOTE = "\n[The customer also attached a file, which Sarah cannot open.]"


def user_text(message: InboundMessage) -> str:
    """A customer's message as stored and shown to the model: never empty, a file mentioned."""
    if message.files_only:
        return "[The customer sent a file without text.]"
    if not message.text.strip():
        return "[The customer called Sarah without writing anything yet.]"
    return message.text + (FILE_NOTE if message.has_files else "")


def customer_turns(batch: list[Pending]) -> list[StoredTurn]:
    """The batch's messages as the thread's memory keeps them (button presses are not turns)."""
    return [
        StoredTurn("user", user_text(p.message), p.message.ts, p.message.user)
        for p in batch
        if p.message.kind is not Kind.FEEDBACK
    ]


def turns_for_model(thread: ThreadRef, episode: list[StoredTurn], batch: list[Pending], customer: str) -> list[Turn]:
    """The episode so far, then the batch's messages, as the model sees them."""
    history = [model_turn(thread, t.role, t.content, t.user, customer) for t in episode]
    new_turns = [
        model_turn(thread, "user", user_text(p.message), p.message.user, customer)
        for p in batch
        if p.message.kind is not Kind.FEEDBACK
    ]
    return history + new_turns


def model_turn(thread: ThreadRef, role: str, content: str, user: str, customer: str) -> Turn:
    """A stored turn as the model sees it. In a channel thread each turn says who spoke (`name`, and
    a label in the text for servers that drop `name`), so another participant cannot pass for the
    customer, nor anyone for support; a DM keeps the plain format the model was trained on."""
    if role == "assistant":
        return Turn("assistant", content)
    if role == "agent":
        return Turn("user", f"{AGENT_LABEL} {_unlabelled(content)}", name="support_agent")
    if thread.is_dm:
        return Turn("user", content)
    if customer and user and user != customer:
        return Turn("user", f"{OTHER_LABEL} {_unlabelled(content)}", name="other_participant")
    return Turn("user", _unlabelled(content), name="customer")


def _unlabelled(text: str) -> str:
    """`text` with our speaker labels defused, so nobody can type one to pose as another speaker."""
    return defused(text)
