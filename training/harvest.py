"""`sarah train harvest`: resolved hand-offs become training candidates that a person reviews.

When Sarah could not help and the support team did, the team's answer is what Sarah should learn.
Each resolved episode with at least one answer from the team becomes one example in the training
data's chat format: the customer's turns, Sarah's earlier answers as context (weight 0: they did
not solve it) and the team's answers as what to learn (weight 1), every text redacted. Each example
carries `"approved": false` and its `source` thread: `sarah train validate` refuses it until a
person has read it, edited what needs editing and set `approved` to true.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.prompt import HANDOFF_TOOL, SYSTEM_PROMPT
from handlers.store.values import StoredTurn
from training.handoff_records import ThreadRecord
from training.redaction import redact

CANDIDATE_OBJECTIVE = "knowledge"  # the team's answer teaches what Sarah did not know; a reviewer may change it


@dataclass(frozen=True, slots=True)
class Harvest:
    candidates: list[dict[str, Any]]
    resolved: int  # resolved episodes read
    without_team_answer: int  # resolved without a written answer from the team: nothing to learn


def candidate_messages(
    turns: Sequence[StoredTurn], customer: str, known_names: Iterable[str] = ()
) -> list[dict[str, Any]] | None:
    """The episode as chat messages (None when the team wrote nothing to learn from).

    Lines of other people in a channel thread are left out; consecutive lines of one speaker are
    joined; the conversation ends with the team's last answer.
    """
    names = list(known_names)
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if turn.role == "user" and turn.user and customer and turn.user != customer:
            continue  # someone else in the customer's thread
        if turn.role not in ("user", "assistant", "agent") or not turn.content.strip():
            continue
        role = "user" if turn.role == "user" else "assistant"
        weight = 1 if turn.role == "agent" else 0
        text = redact(turn.content.strip(), names)
        last = messages[-1] if messages else None
        if (
            last is not None
            and last["role"] == role
            and last.get("weight") == (weight if role == "assistant" else None)
        ):
            last["content"] += "\n\n" + text
            continue
        message: dict[str, Any] = {"role": role, "content": text}
        if role == "assistant":
            message["weight"] = weight
        messages.append(message)
    while messages and not (messages[-1]["role"] == "assistant" and messages[-1]["weight"] == 1):
        messages.pop()  # after the team's last answer: thanks, or Sarah's closing notice
    if not any(m["role"] == "user" for m in messages):
        return None
    return [{"role": "system", "content": SYSTEM_PROMPT}, *messages]


def harvest(threads: Iterable[ThreadRecord], known_names: Iterable[str] = ()) -> Harvest:
    """One candidate per resolved episode the team answered in writing."""
    names = list(known_names)
    candidates: list[dict[str, Any]] = []
    resolved = empty = 0
    for thread in threads:
        for index, episode in enumerate(thread.episodes):
            if not episode.resolved:
                continue
            resolved += 1
            messages = candidate_messages(episode.turns, thread.customer, names)
            if messages is None:
                empty += 1
                continue
            candidates.append(
                {
                    "objective": CANDIDATE_OBJECTIVE,
                    "approved": False,
                    "source": f"{thread.key}#{index + 1}",
                    "messages": messages,
                    "tools": [HANDOFF_TOOL],
                }
            )
    return Harvest(candidates, resolved, empty)
