"""Token counts of chat fine-tuning examples, and what OpenAI would bill for them.

The cookbook's counter crashes on `weight` and `tool_calls`, so this one counts them itself: each
message costs 3 tokens plus its content, name, tool calls and tool-call id; the `tools` definitions
are counted once per example; `weight` is not text and costs nothing. The encoding comes from the
base model (an `ft:` id is resolved first) through `handlers.tokens`, the bot's own counter.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from handlers.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, Encoder, base_model, encoder_for

DEFAULT_MAX_TOKENS = 65_536  # per example, for the gpt-4o and gpt-4.1 families

# OpenAI's rule for the default number of epochs (from its data-preparation guidance).
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

TOKENS_PER_TOOL_CALL = 3


@dataclass(frozen=True, slots=True)
class ExampleTokens:
    total: int
    assistant: int


@dataclass(frozen=True, slots=True)
class TokenStats:
    """Distribution of per-example token counts, as the guidance prints it."""

    count: int
    min: int
    max: int
    mean: float
    median: float
    p10: float
    p90: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_encoder(model: str) -> tuple[str, Encoder]:
    """(base model name, its encoder) for a model or a fine-tuned `ft:` id."""
    base = base_model(model)
    return base, encoder_for(base)


def count_example(example: dict[str, Any], encoder: Encoder) -> ExampleTokens:
    """Tokens of one example as trained: every message, tool calls and the tool definitions."""
    total = TOKENS_PER_REPLY
    assistant = 0
    for message in example.get("messages") or []:
        if not isinstance(message, dict):
            continue
        tokens = TOKENS_PER_MESSAGE + _message_text_tokens(message, encoder)
        total += tokens
        if message.get("role") == "assistant":
            assistant += tokens - TOKENS_PER_MESSAGE
    if example.get("tools"):
        total += len(encoder.encode(json.dumps(example["tools"], ensure_ascii=False)))
    return ExampleTokens(total=total, assistant=assistant)


def _message_text_tokens(message: dict[str, Any], encoder: Encoder) -> int:
    tokens = 0
    if isinstance(message.get("content"), str):
        tokens += len(encoder.encode(message["content"]))
    if isinstance(message.get("name"), str):
        tokens += 1 + len(encoder.encode(message["name"]))
    if isinstance(message.get("tool_call_id"), str):
        tokens += len(encoder.encode(message["tool_call_id"]))
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            tokens += TOKENS_PER_TOOL_CALL
            tokens += len(encoder.encode(str(function.get("name", ""))))
            tokens += len(encoder.encode(str(function.get("arguments", ""))))
    return tokens


def stats(values: list[int]) -> TokenStats | None:
    """min/max/mean/median/p10/p90 of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return TokenStats(
        count=len(ordered),
        min=ordered[0],
        max=ordered[-1],
        mean=round(statistics.fmean(ordered), 1),
        median=float(statistics.median(ordered)),
        p10=_quantile(ordered, 0.1),
        p90=_quantile(ordered, 0.9),
    )


def _quantile(ordered: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def default_epochs(n_examples: int) -> int:
    """The epochs OpenAI chooses when none are given: 3, raised for small and lowered for big sets."""
    if n_examples <= 0:
        return 0
    epochs = TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    elif n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return epochs


def billed_tokens(example_totals: list[int], epochs: int, max_tokens: int = DEFAULT_MAX_TOKENS) -> int:
    """Tokens charged: each example counts up to the per-example limit, once per epoch."""
    return epochs * sum(min(max_tokens, total) for total in example_totals)
