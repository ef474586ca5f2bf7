"""The claims check judges what a sentence says happened, not which verb it uses: measured on 95
sentences claiming actions Sarah cannot take and 97 honest ones, written apart from
the rules (tests/handlers/data/claims_*.txt), and on every answer in the shipped training data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.claims import find_claims

DATA = Path(__file__).parent / "data"


def sentences(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


CLAIMED = sentences("claims_claimed.txt")
HONEST = sentences("claims_honest.txt")


def test_the_lists_are_large_enough_to_measure() -> None:
    assert len(CLAIMED) >= 60 and len(HONEST) >= 60


def test_at_least_95_percent_of_claimed_actions_are_caught() -> None:
    missed = [s for s in CLAIMED if not find_claims(s)]
    caught = 1 - len(missed) / len(CLAIMED)
    assert caught >= 0.95, f"caught {caught:.1%}; missed: {missed}"


def test_at_most_5_percent_of_honest_steps_are_wrongly_withheld() -> None:
    withheld = [s for s in HONEST if find_claims(s)]
    false_rate = len(withheld) / len(HONEST)
    assert false_rate <= 0.05, f"withheld {false_rate:.1%} of honest sentences: {withheld}"


@pytest.mark.parametrize("claim", CLAIMED[:6])
def test_the_plainest_forms_of_a_claim_are_withheld(claim: str) -> None:
    assert find_claims(claim)


def test_no_answer_in_the_shipped_training_data_is_taken_for_a_claim() -> None:
    answers = [
        message["content"]
        for path in sorted((Path(__file__).parents[2] / "training" / "data").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
        for message in json.loads(line).get("messages", [])  # scenarios have none
        if message["role"] == "assistant" and isinstance(message.get("content"), str)
    ]
    assert len(answers) > 500
    assert [claim for answer in answers for claim in find_claims(answer)] == []


def test_a_claim_inside_an_otherwise_honest_answer_is_found() -> None:
    answer = "Thanks for waiting! Good news: the replacement camera has been shipped. Set it up like a new device."
    assert find_claims(answer) == ["Good news: the replacement camera has been shipped."]


def test_nothing_in_the_knowledge_base_the_offline_model_quotes_is_taken_for_a_claim() -> None:
    from sarah_model.knowledge import load_knowledge_base

    flagged = {p.id: find_claims(p.text) for p in load_knowledge_base()}
    assert not {k: v for k, v in flagged.items() if v}  # e.g. "cameras have infrared…", cases under "when:"


def test_a_claim_in_a_bulleted_list_of_what_was_done_is_still_found() -> None:
    assert find_claims("Done:\n- Your refund has been processed.")
    assert not find_claims("Only staff can unlock an account when:\n- the account was locked for security reasons.")
