"""Fit a thread's turns into the model's token budget, newest first.

The system prompt always goes in; then turns are taken from the newest backwards until the next
one would not fit. The newest customer message is never dropped: if it alone is too long it is cut,
with a marker the model (and a support agent reading the transcript) can see.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.model import Conversation, Turn
from handlers.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, Encoder

CUT_MARKER = "\n[… the rest of this message was cut: it was too long for Sarah to read in full …]"


def count_tokens(encoder: Encoder, text: str) -> int:
    return len(encoder.encode(text)) + TOKENS_PER_MESSAGE


def cut_to_tokens(encoder: Encoder, text: str, limit: int) -> str:
    """The start of `text` in at most `limit` tokens (marker included), ending on whole characters."""
    marker_cost = len(encoder.encode(CUT_MARKER))
    keep = max(limit - marker_cost, 0)
    head = encoder.decode(encoder.encode(text)[:keep])
    return head.rstrip("\ufffd") + CUT_MARKER


def fit_to_budget(system: str, turns: Sequence[Turn], encoder: Encoder, budget: int) -> Conversation:
    """The conversation the model sees: system prompt plus the newest turns within `budget` tokens."""
    remaining = budget - count_tokens(encoder, system) - TOKENS_PER_REPLY
    kept: list[Turn] = []
    for turn in reversed(turns):
        cost = count_tokens(encoder, turn.content)
        if cost <= remaining:
            kept.append(turn)
            remaining -= cost
            continue
        if not kept:  # the newest message alone is over budget: cut it, never drop it
            limit = remaining - TOKENS_PER_MESSAGE
            kept.append(Turn(turn.role, cut_to_tokens(encoder, turn.content, max(limit, 1))))
        break
    kept.reverse()
    if len(kept) < len(turns):
        while len(kept) > 1 and kept[0].role == "assistant":
            kept.pop(0)  # a trimmed context that opens with half an exchange confuses the model
    return Conversation(system=system, turns=tuple(kept))
