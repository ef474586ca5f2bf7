"""Customers message Sarah in Slack and get an answer in the same thread, with the thread remembered."""

from __future__ import annotations

from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts
from tests.conftest import StartSarah


async def test_a_dm_is_answered_in_its_thread(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    assert await slack.event(dm("How do I pair my ZenLock?", ts=ts)) == 200
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "Answering" in m.body]
    )
    assert replies[0].body == "Answering: How do I pair my ZenLock?"
    assert replies[0].thread_ts == ts


async def test_a_mention_is_answered_in_a_thread_under_it(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(mention("is my ZenCam covered by warranty?", ts=ts))
    replies = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("C0GENERAL", ts) if "Answering" in m.body]
    )
    assert replies[0].body == "Answering: is my ZenCam covered by warranty?"  # the @mention itself is stripped


async def test_a_follow_up_in_the_thread_needs_no_mention_and_the_model_sees_earlier_turns(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my ZenHub LED is blinking red", ts=root))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("C0GENERAL", root)))

    await slack.event(channel_message("I tried that, still red", thread_ts=root))
    await fake_slack.wait_for(lambda: sum("Answering" in m.body for m in fake_slack.thread("C0GENERAL", root)) == 2)

    last = fake_openai.requests[-1]
    assert user_lines(last) == ["my ZenHub LED is blinking red", "I tried that, still red"]
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "user"]
    assert last["messages"][2]["content"] == "Answering: my ZenHub LED is blinking red"


async def test_a_reply_in_a_channel_thread_sarah_is_not_part_of_is_left_alone(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(channel_message("lunch anyone?", thread_ts=root))
    await slack.event(channel_message("top-level chatter", thread_ts=None))
    probe = new_ts()
    await slack.event(dm("are you there?", ts=probe))  # answered after the two above were read
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("D0CUSTOMER", probe)))
    assert fake_slack.thread("C0GENERAL", root) == []
    assert [user_lines(r) for r in fake_openai.requests] == [["are you there?"]]


async def test_a_bare_mention_gets_an_answer_rather_than_an_empty_prompt(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    await slack.event(mention("", ts=ts))
    await fake_slack.wait_for(lambda: any("Answering" in m.body for m in fake_slack.thread("C0GENERAL", ts)))
    assert user_lines(fake_openai.requests[0]) == ["[The customer called Sarah without writing anything yet.]"]
