"""The prompt keeps the newest turns within the budget and never drops the newest message."""

from __future__ import annotations

from bot.slack.markdown import split_for_slack
from handlers.context import CUT_MARKER, fit_to_budget
from handlers.model import Turn
from handlers.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, base_model, encoder_for, encoding_name

ENCODER = encoder_for("gpt-4o-mini")


def cost(system: str, turns: tuple[Turn, ...]) -> int:
    return (
        sum(len(ENCODER.encode(t)) + TOKENS_PER_MESSAGE for t in [system, *(x.content for x in turns)])
        + TOKENS_PER_REPLY
    )


def test_newest_turns_are_kept_within_budget() -> None:
    turns = [Turn("user" if i % 2 == 0 else "assistant", f"message number {i} " * 20) for i in range(30)]
    conversation = fit_to_budget("You are Sarah.", turns, ENCODER, 500)
    assert cost(conversation.system, conversation.turns) <= 500
    assert conversation.turns[-1] == turns[-1]
    assert list(conversation.turns) == turns[-len(conversation.turns) :]
    assert conversation.turns[0].role == "user"


def test_an_oversized_newest_message_is_cut_with_a_marker() -> None:
    conversation = fit_to_budget("You are Sarah.", [Turn("user", "word " * 5000)], ENCODER, 300)
    assert len(conversation.turns) == 1
    assert conversation.turns[0].content.endswith(CUT_MARKER)
    assert cost(conversation.system, conversation.turns) <= 300


def test_fine_tuned_ids_resolve_to_their_base_models_encoding() -> None:
    assert base_model("ft:gpt-4o-mini-2024-07-18:zennest::abc123") == "gpt-4o-mini-2024-07-18"
    assert encoding_name("ft:gpt-4.1-mini-2025-04-14:zennest::x") == "o200k_base"
    assert encoding_name("ft:gpt-3.5-turbo-0125:zennest::x") == "cl100k_base"
    assert encoding_name("sarah") == "o200k_base"  # a LoRA adapter behind vLLM


def test_slack_split_keeps_every_character_in_order() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "x" * 5000 for i in range(5))
    pieces = split_for_slack(text)
    assert all(len(p) <= 12_000 for p in pieces) and len(pieces) > 1
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
