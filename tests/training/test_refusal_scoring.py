"""`sarah train evaluate` counts a refusal as correct when a model declines in its own words, and not
when it declines and then answers anyway."""

from __future__ import annotations

import pytest

from handlers.model import Reply
from training.scoring import aggregate, score_item

OFF_TOPIC = {"id": "ot", "expect": {"handoff": False, "refuse": True, "kb_ids": [], "keywords": []}}


@pytest.mark.parametrize(
    "text",
    [
        "I can only assist with ZenNest products and services.",
        "I'll stick to ZenNest topics, but I'm happy to help with your devices.",
        "I'm sorry, but I can't help with that. Is there anything about your ZenNest home I can help with?",
        "That's outside what I can help with: I'm ZenNest's support assistant.",
        "Unfortunately, I can't assist with that request.",
    ],
)
def test_ordinary_refusals_count_as_correct(text: str) -> None:
    assert score_item(OFF_TOPIC, Reply(text), {}).refused


def test_a_refusal_that_answers_anyway_is_not_a_correct_refusal() -> None:
    leaky = Reply("I can only help with ZenNest. That said, for your car, check the battery terminals first.")
    scores = aggregate([OFF_TOPIC], [score_item(OFF_TOPIC, leaky, {})])
    assert scores.correct_refusal.hits == 0
