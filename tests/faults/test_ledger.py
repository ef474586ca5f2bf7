"""The fault table's counting: what counts as lost, doubled and out of order (no processes needed)."""

from __future__ import annotations

from sarah_testing.fault_traffic import Ledger

THREAD = ("D0LEDGER", "1700000000.000001")


def ledger_with(*tags: str, acked: bool = True) -> Ledger:
    ledger = Ledger()
    for tag in tags:
        ledger.sent(tag, THREAD)
        if acked:
            ledger.acknowledged(tag)
    return ledger


def test_a_later_message_answered_first_is_out_of_order() -> None:
    ledger = ledger_with("f00001", "f00002")
    ledger.reply(THREAD, "Answer [f00002]")
    ledger.reply(THREAD, "Answer [f00001]")
    assert ledger.counts() == (2, 2, 0, 1)


def test_one_reply_naming_its_messages_backwards_is_out_of_order() -> None:
    ledger = ledger_with("f00001", "f00002")
    ledger.reply(THREAD, "Answer [f00002] [f00001]")
    assert ledger.counts() == (2, 2, 0, 1)


def test_a_message_that_reached_sarah_later_may_be_answered_later() -> None:
    ledger = ledger_with("f00001", "f00002", acked=False)
    ledger.acknowledged("f00002")  # Slack had to retry f00001
    ledger.acknowledged("f00001")
    ledger.reply(THREAD, "Answer [f00002]")
    ledger.reply(THREAD, "Answer [f00001]")
    assert ledger.counts() == (2, 2, 0, 0)


def test_an_untagged_reply_answers_what_waits_and_a_second_one_is_a_double() -> None:
    ledger = ledger_with("f00001", "f00002", "f00003")
    ledger.reply(THREAD, "Answer [f00001]")
    ledger.reply(THREAD, "Sorry, I couldn't reach my knowledge right now.")  # answers f00002 and f00003
    ledger.reply(THREAD, "Answer [f00002]")
    ledger.reply(THREAD, "Sorry, I couldn't reach my knowledge right now.")  # nothing waits: extra
    assert ledger.counts() == (3, 3, 2, 0)


def test_an_unanswered_message_is_lost() -> None:
    ledger = ledger_with("f00001", "f00002")
    ledger.reply(THREAD, "Answer [f00001]")
    sent, answered, _, _ = ledger.counts()
    assert sent - answered == 1


def test_an_answer_edited_in_place_is_one_answer_and_a_second_message_is_a_double() -> None:
    ledger = ledger_with("f00001", "f00002")
    ledger.reply(THREAD, "Answer [f00001]", "1700000000.000011")
    ledger.reply(THREAD, "Answer, finished after a crash [f00001] [f00002]", "1700000000.000011")  # edited
    assert ledger.counts() == (2, 2, 0, 0)
    ledger.reply(THREAD, "Answer [f00001]", "1700000000.000013")  # a second message
    assert ledger.counts() == (2, 2, 1, 0)
