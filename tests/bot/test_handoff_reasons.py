"""One list of hand-off reasons: the card names every one, and the model is offered only its own four."""

from __future__ import annotations

from bot.slack.cards import REASONS
from handlers.prompt import HANDOFF_TOOL, HandoffReason


def test_every_reason_a_thread_can_be_handed_off_for_has_words_on_the_card() -> None:
    assert set(HandoffReason) <= REASONS.keys()


def test_the_model_is_offered_the_reasons_it_was_trained_on_and_not_the_pipelines_own() -> None:
    offered = HANDOFF_TOOL["function"]["parameters"]["properties"]["reason"]["enum"]
    assert offered == ["customer_asked", "needs_staff_access", "steps_failed", "unknown_answer"]
    assert HandoffReason.MODEL_UNAVAILABLE not in offered and HandoffReason.CLAIMED_ACTION not in offered
