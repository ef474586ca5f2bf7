"""Held-out answers judged like an episode's turn: every expected fact as whole words, a length bound
relative to the cited passages, refusals that only refuse, hand-offs where expected."""

from __future__ import annotations

from handlers.model import Outcome, Reply
from sarah_model.knowledge import load_knowledge_base
from training.episodes.scoring import answer_succeeds, task_success
from training.paths import DATA_DIR

PASSAGES = {p.id: p.text for p in load_knowledge_base()}
KNOWLEDGE = (DATA_DIR / "knowledge_base.md").read_text(encoding="utf-8")
FINGERPRINTS = {"expect": {"handoff": False, "refuse": False, "kb_ids": ["locks/overview"], "keywords": ["20"]}}
CAR = {"expect": {"handoff": False, "refuse": True, "kb_ids": [], "keywords": []}}
REFUND = {"expect": {"handoff": True, "refuse": False, "kb_ids": [], "keywords": []}}


def test_the_expected_fact_must_be_there_as_whole_words() -> None:
    assert answer_succeeds(FINGERPRINTS, Reply("The ZenLock Touch holds up to 20 fingerprints."), PASSAGES)
    assert not answer_succeeds(FINGERPRINTS, Reply("Fingerprint support arrived in 2026."), PASSAGES)


def test_pasting_the_knowledge_base_fails_although_it_contains_every_fact() -> None:
    assert "20 fingerprints" in KNOWLEDGE
    assert not answer_succeeds(FINGERPRINTS, Reply(KNOWLEDGE), PASSAGES)


def test_an_answer_claiming_an_action_fails() -> None:
    assert not answer_succeeds(FINGERPRINTS, Reply("I've updated your lock: it holds 20 fingerprints."), PASSAGES)


def test_a_refusal_item_needs_a_refusal_and_nothing_else() -> None:
    assert answer_succeeds(CAR, Reply("Sorry, I can only help with ZenNest products."), PASSAGES)
    leaky = "I can only help with ZenNest. That said, for your car, check the battery terminals."
    assert not answer_succeeds(CAR, Reply(leaky), PASSAGES)


def test_a_hand_off_item_needs_the_hand_off() -> None:
    assert answer_succeeds(REFUND, Reply("", Outcome.HANDOFF, reason="needs_staff_access"), PASSAGES)
    assert not answer_succeeds(REFUND, Reply("Refunds take 5–10 business days."), PASSAGES)


def test_task_success_is_the_share_of_items_that_succeed_leaving_failed_calls_out() -> None:
    replies = [
        Reply("Up to 20 fingerprints."),
        Reply("Sure! For your car, check the battery."),
        Reply("", Outcome.UNAVAILABLE),
    ]
    assert task_success([FINGERPRINTS, CAR, REFUND], replies, PASSAGES) == 0.5
    assert task_success([REFUND], [Reply("", Outcome.UNAVAILABLE)], PASSAGES) is None
