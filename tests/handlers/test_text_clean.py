"""Text from Slack that cannot be encoded, or is far too long, is made safe before it reaches Redis."""

from __future__ import annotations

from bot.slack.events import classify
from handlers.messages import InboundMessage
from handlers.store.values import StoredTurn
from handlers.text_clean import CUT_MARKER, clean, clean_and_cap
from sarah_testing.slack_api import BOT_USER_ID
from sarah_testing.slack_payloads import dm, mention


def test_lone_surrogates_and_control_characters_are_removed_newlines_and_tabs_kept() -> None:
    text = clean("my\ud800 ZenLock\x00 beeps\x1b[31m\r\nstep 1:\tunplug\udfff it\x7f")
    assert text == "my ZenLock beeps[31m\nstep 1:\tunplug it"
    text.encode("utf-8")  # would raise UnicodeEncodeError with a surrogate left in


def test_a_text_over_the_cap_is_cut_with_a_marker_and_remembers_its_length() -> None:
    capped = clean_and_cap("A" * 40_000, 8_000)
    assert len(capped.text) == 8_000
    assert capped.text.endswith(CUT_MARKER) and capped.text.startswith("A" * 7_000)
    assert capped.cut_from == 40_000
    assert clean_and_cap("short", 8_000).cut_from == 0


def test_the_ingress_cleans_and_caps_what_it_queues() -> None:
    message = classify(dm("hi\ud800\x00 " + "x" * 20_000), BOT_USER_ID, max_chars=1_000)
    assert isinstance(message, InboundMessage)
    assert message.text.startswith("hi x") and len(message.text) == 1_000 and message.cut_from == 20_003
    assert InboundMessage.from_json(message.to_json()) == message


def test_a_mention_in_a_long_run_of_spaces_is_stripped_without_a_regex() -> None:
    message = classify(mention(" " * 40_000 + "help" + " " * 40_000), BOT_USER_ID)
    assert isinstance(message, InboundMessage)
    assert message.text == "help"


def test_malformed_ids_and_timestamps_are_ignored_not_queued() -> None:
    assert isinstance(classify(dm("hi"), BOT_USER_ID), InboundMessage)
    for bad in (dm("hi", ts="not-a-ts"), dm("hi", channel="D0 x"), dm("hi", user="U" * 200), dm("hi", thread_ts="1.x")):
        assert not isinstance(classify(bad, BOT_USER_ID), InboundMessage)


def test_entries_and_turns_stored_before_the_cleaning_are_cleaned_when_read() -> None:
    raw = (
        '{"thread":{"channel":"D0C","thread_ts":"1.1","team":""},'
        '"ts":"1.1","user":"U1","text":"hi\\ud800\\u0000!","kind":"dm"}'
    )
    assert InboundMessage.from_json(raw).text == "hi!"
    assert StoredTurn.from_json('{"role":"user","content":"a\\udc00b"}').content == "ab"


def test_old_style_line_breaks_become_newlines() -> None:
    assert clean("step 1\rstep 2\r\nstep 3") == "step 1\nstep 2\nstep 3"


def test_a_text_exactly_at_the_cap_is_kept_whole_and_a_cut_one_keeps_its_start() -> None:
    assert clean_and_cap("B" * 100, 100).text == "B" * 100
    capped = clean_and_cap("  " + "C" * 200, len(CUT_MARKER) + 10)
    assert capped.text == "  " + "C" * 8 + CUT_MARKER


def test_a_cap_shorter_than_the_marker_leaves_only_the_marker() -> None:
    assert clean_and_cap("D" * 50, 3).text == CUT_MARKER
