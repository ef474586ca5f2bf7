"""The offline model on questions that ask for one fact: the sentence that holds it, not a neighbour's."""

from __future__ import annotations

import pytest

from handlers.model import Outcome, Turn
from sarah_model.offline import OfflineModel

# Each question names one value of the knowledge base; the answer must carry it.
ONE_FACT = [
    ("How many fingerprints does the ZenLock Touch hold?", "20 fingerprints"),
    ("How many devices can one ZenHub support?", "100"),
    ("How long is the warranty on ZenNest devices?", "2-year"),
    ("How long does the ZenHub backup battery last?", "4 hours"),
    ("How long does the ZenCam Outdoor battery last?", "6 months"),
    ("How long is the warranty on the ZenCam Outdoor battery?", "1 year"),
    ("How many access codes can a ZenLock store?", "50 access codes"),
    ("How far can the ZenSense detect motion?", "9 m"),
    ("How much is a ZenLock Touch?", "$249"),
    ("How much does Zen Plus cost a year?", "$49.99"),
]


@pytest.fixture(scope="module")
def sarah() -> OfflineModel:
    return OfflineModel.from_knowledge_base()


@pytest.mark.parametrize(("question", "fact"), ONE_FACT)
def test_a_question_after_one_fact_is_answered_with_it(sarah: OfflineModel, question: str, fact: str) -> None:
    reply = sarah.answer([Turn("user", question)])
    assert reply.outcome is Outcome.ANSWERED
    assert fact in reply.text.replace("**", "")


def test_nope_nothing_after_steps_that_did_not_work_hands_off(sarah: OfflineModel) -> None:
    asked = "My ZenHub is offline"
    steps = sarah.answer([Turn("user", asked)])
    reply = sarah.answer([Turn("user", asked), Turn("assistant", steps.text), Turn("user", "nope, nothing")])
    assert (reply.outcome, reply.reason) == (Outcome.HANDOFF, "steps_failed")


def test_nope_nothing_after_anything_else_is_a_goodbye_not_a_failure(sarah: OfflineModel) -> None:
    asked = "How much is a ZenLock Touch?"
    answer = sarah.answer([Turn("user", asked)])
    assert answer.text.endswith("Anything else about your ZenNest home I can help with?")
    reply = sarah.answer([Turn("user", asked), Turn("assistant", answer.text), Turn("user", "nope, nothing")])
    assert reply.outcome is Outcome.ANSWERED
