"""A thread's state hash read as what it means: a thread nobody touched is Sarah's, a card needs both ids."""

from __future__ import annotations

from handlers.messages import SharedFile
from handlers.thread_state import CardRef, Owner, ThreadState


def test_a_thread_with_no_state_is_sarahs_with_no_card_and_no_failures() -> None:
    state = ThreadState.from_redis({})
    assert (state.owner, state.card, state.failures, state.reply_parts) == (Owner.BOT, None, 0, [])
    assert state == ThreadState()  # every other field empty, not None


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


def test_every_field_of_the_hash_is_read_as_what_it_means() -> None:
    state = ThreadState.from_redis(
        {
            "owner": "human",
            "owner_by": "U0AGENT",
            "owner_at": "1700000100.5",
            "customer": "U0CUSTOMER",
            "failures": "2",
            "handoff_reason": "steps_failed",
            "summary": "Lock keeps beeping.",
            "escalated_at": "1700000000.25",
            "relay_to": "D0CUSTOMER:1.1",
            "placeholder": "3.3",
            "reply_pass": "tag1",
            "reply_since": "1700000200.125",
            "stream_ts": "3.3",
            "history_read": "1",
            "files": '[{"name": "photo.jpg", "permalink": "https://x/p"}, "junk"]',
        }
    )
    assert state == ThreadState(
        owner=Owner.HUMAN,
        owner_by="U0AGENT",
        owner_at=1700000100.5,
        customer="U0CUSTOMER",
        failures=2,
        failures_at_handoff=None,
        handoff_reason="steps_failed",
        summary="Lock keeps beeping.",
        escalated_at=1700000000.25,
        card=None,
        relay_to="D0CUSTOMER:1.1",
        placeholder="3.3",
        reply_pass="tag1",
        reply_since=1700000200.125,
        reply_parts=[],
        stream_ts="3.3",
        history_read=True,
        files=(SharedFile("photo.jpg", "https://x/p"),),
    )


def test_files_that_are_not_a_list_of_records_are_no_files() -> None:
    assert ThreadState.from_redis({"files": "not json"}).files == ()
    assert ThreadState.from_redis({"files": '{"name": "x"}'}).files == ()
    assert ThreadState.from_redis({"files": '[{"permalink": "https://x/p"}]'}).files == (SharedFile("", "https://x/p"),)
    assert ThreadState.from_redis({"files": '[{"name": "a.png"}]'}).files == (SharedFile("a.png", ""),)
