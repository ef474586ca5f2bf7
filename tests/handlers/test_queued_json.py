"""What the queue and the turn list hold survives a round trip through Redis, old entries included."""

from __future__ import annotations

import json
from dataclasses import fields

from handlers.messages import InboundMessage, Kind, SharedFile, ThreadRef
from handlers.store.values import StoredTurn


def test_a_queued_message_comes_back_exactly_as_it_was_put() -> None:
    message = InboundMessage(
        thread=ThreadRef("C0GENERAL", "1.1", team="TZEN", conversation_ts="0.9"),
        ts="1.2",
        user="U0CUSTOMER",
        text="my ZenLock beeps",
        kind=Kind.THREAD_REPLY,
        has_files=True,
        event_id="Ev1",
        ref="1.0",
        external=True,
        cut_from=9000,
        files=(SharedFile("photo.jpg", "https://x/p"),),
    )
    assert InboundMessage.from_json(message.to_json()) == message
    assert json.loads(message.to_json())["kind"] == "thread_reply"
    # written by hand (for speed): a field added to the message must be added to its JSON too
    assert set(json.loads(message.to_json())) == {f.name for f in fields(InboundMessage)}


def test_an_entry_queued_by_an_older_sarah_gets_the_defaults_and_loses_no_field() -> None:
    old = {
        "thread": {"channel": "D0CUSTOMER", "thread_ts": "1.1"},
        "ts": "1.1",
        "user": "U0",
        "text": "hi",
        "kind": "dm",
    }
    message = InboundMessage.from_json(json.dumps(old))
    assert message == InboundMessage(ThreadRef("D0CUSTOMER", "1.1"), "1.1", "U0", "hi", Kind(old["kind"]))


def test_shared_files_are_cut_to_their_caps_and_junk_is_dropped() -> None:
    raw = {
        "thread": {"channel": "D0", "thread_ts": "1"},
        "ts": "1",
        "user": "U0",
        "text": "",
        "kind": "dm",
        "files": [{"name": "n" * 300, "permalink": "p" * 600}, {"permalink": "https://x/q"}, {"name": "a.png"}, "junk"],
    }
    files = InboundMessage.from_json(json.dumps(raw)).files
    assert files == (SharedFile("n" * 200, "p" * 500), SharedFile("", "https://x/q"), SharedFile("a.png", ""))


def test_a_turn_stored_without_ts_or_user_reads_back_with_empty_ones() -> None:
    assert StoredTurn.from_json('{"role": "user", "content": "hi"}') == StoredTurn("user", "hi", "", "")
    turn = StoredTurn("agent", "on it", "2.2", "U0AGENT")
    assert StoredTurn.from_json(turn.to_json()) == turn
