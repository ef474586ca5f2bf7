"""A thread's state hash read as what it means: a thread nobody touched is Sarah's, a card needs both ids."""

from __future__ import annotations

from handlers.thread_state import CardRef, Owner, ThreadState


def test_a_thread_with_no_state_is_sarahs_with_no_card_and_no_failures() -> None:
    state = ThreadState.from_redis({})
    assert (state.owner, state.card, state.failures, state.reply_parts) == (Owner.BOT, None, 0, [])


def test_a_handed_off_thread_reads_back_its_owner_card_and_the_failures_at_hand_off() -> None:
    state = ThreadState.from_redis(
        {
            "owner": "waiting",
            "card_channel": "C0SUPPORT",
            "card_ts": "1.5",
            "failures": "0",
            "failures_at_handoff": "3",
            "reply_parts": '["2.1", "2.2"]',
        }
    )
    assert state.owner is Owner.WAITING
    assert state.card == CardRef("C0SUPPORT", "1.5")
    assert (state.failures, state.failures_at_handoff, state.reply_parts) == (0, 3, ["2.1", "2.2"])


def test_a_card_with_only_its_channel_recorded_is_not_a_card() -> None:
    assert ThreadState.from_redis({"card_channel": "C0SUPPORT"}).card is None
