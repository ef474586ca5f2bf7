"""Which Slack events Sarah answers, as pure rules."""

from __future__ import annotations

from bot.slack.events import Ignored, classify
from handlers.messages import InboundMessage, Kind
from sarah_testing.slack_api import BOT_USER_ID
from sarah_testing.slack_payloads import channel_message, dm, mention, sarahs_own


def test_a_top_level_dm_starts_its_own_thread() -> None:
    message = classify(dm("hi", ts="100.000001"), BOT_USER_ID)
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.thread.thread_ts, message.thread.channel) == (Kind.DM, "100.000001", "D0CUSTOMER")


def test_a_mention_inside_a_thread_is_answered_in_that_thread_with_the_mention_stripped() -> None:
    message = classify(mention("help", ts="200.000002", thread_ts="100.000001"), BOT_USER_ID)
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.thread.thread_ts, message.text) == (Kind.MENTION, "100.000001", "help")


def test_a_channel_message_that_mentions_sarah_is_left_to_the_app_mention_event() -> None:
    event = channel_message(f"<@{BOT_USER_ID}> help", thread_ts="100.000001")
    assert classify(event, BOT_USER_ID) == Ignored("mentions Sarah: the app_mention event carries it")


def test_what_sarah_ignores() -> None:
    assert isinstance(classify(sarahs_own("hello"), BOT_USER_ID), Ignored)
    assert isinstance(classify(dm("x", subtype="message_changed"), BOT_USER_ID), Ignored)
    assert isinstance(classify(dm("x", subtype="channel_join"), BOT_USER_ID), Ignored)
    assert isinstance(classify(dm("x", bot_id="B2"), BOT_USER_ID), Ignored)
    assert isinstance(classify(channel_message("top level", thread_ts=None), BOT_USER_ID), Ignored)
    assert isinstance(classify({"type": "message"}, BOT_USER_ID), Ignored)  # no user, no channel: no crash
    assert isinstance(classify({"type": "reaction_added"}, BOT_USER_ID), Ignored)


def test_a_file_share_with_text_is_answered_and_flagged() -> None:
    message = classify(dm("see photo", subtype="file_share", files=[{"id": "F1"}]), BOT_USER_ID)
    assert isinstance(message, InboundMessage)
    assert message.has_files and not message.files_only
