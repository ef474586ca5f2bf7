"""Mentioned halfway down a channel thread she has never seen, Sarah reads the thread so far once."""

from __future__ import annotations

from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, earlier_ts, mention, new_ts
from tests.conftest import StartSarah

CHANNEL = "C0GENERAL"


def seed_thread(slack: FakeSlack) -> str:
    """A thread among people, before anyone mentions Sarah; returns its ts."""
    root = earlier_ts()
    slack.add_message(CHANNEL, "Our ZenCam in the lobby keeps dropping offline", user="UALICE", ts=root)
    slack.add_message(
        CHANNEL, "UBOB has joined the channel", user="UBOB", thread_ts=root, ts=earlier_ts(), subtype="channel_join"
    )
    slack.add_message(CHANNEL, "Same here since the firmware update", user="UBOB", thread_ts=root, ts=earlier_ts())
    return root


def contents(request: dict[str, object]) -> str:
    return "\n".join(str(m.get("content")) for m in request["messages"])  # type: ignore[attr-defined]


async def test_a_first_mention_mid_thread_reads_the_thread_once(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = seed_thread(fake_slack)
    asked = new_ts()
    await slack.event(mention("can you help with this?", user="UCAROL", thread_ts=root, ts=asked))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body])
    seen = contents(fake_openai.requests[0])
    assert "keeps dropping offline" in seen and "since the firmware update" in seen
    assert "has joined the channel" not in seen
    # other people's words reach the model as theirs, not as the customer's
    assert "[Another person in this channel, not the customer] Same here" in seen
    read = fake_slack.calls_to("conversations.replies")
    assert len(read) == 1 and read[0]["latest"] == asked

    await slack.event(channel_message("it's the 2.4 GHz one", user="UCAROL", thread_ts=root))
    await fake_slack.wait_for(lambda: len(fake_openai.requests) == 2)
    assert "keeps dropping offline" in contents(fake_openai.requests[1])  # Redis is the memory now
    assert len(fake_slack.calls_to("conversations.replies")) == 1


async def test_a_mention_that_opens_a_thread_reads_nothing(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    asked = new_ts()
    await slack.event(mention("my ZenHub light is red", ts=asked))
    await fake_slack.wait_for(lambda: fake_slack.thread(CHANNEL, asked))
    assert fake_slack.calls_to("conversations.replies") == []


async def test_a_rate_limited_read_is_retried_after_slacks_pause(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = seed_thread(fake_slack)
    fake_slack.rate_limit_next(1)  # the next call, conversations.replies, answers 429 with Retry-After: 1
    await slack.event(mention("can you help with this?", user="UCAROL", thread_ts=root))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body])
    assert "keeps dropping offline" in contents(fake_openai.requests[0])


async def test_a_thread_that_cannot_be_read_still_gets_an_answer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.failing.add("conversations.replies")  # e.g. Slack's limit for apps outside the Marketplace
    _, slack = await start_sarah()
    root = seed_thread(fake_slack)
    await slack.event(mention("can you help with this?", user="UCAROL", thread_ts=root))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body])
    assert "keeps dropping offline" not in contents(fake_openai.requests[0])


async def test_the_token_budget_cuts_the_oldest_of_a_long_thread(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(model={"prompt_token_budget": 2_000})
    root = earlier_ts()
    fake_slack.add_message(CHANNEL, "lobby camera log " * 1_500, user="UALICE", ts=root)
    fake_slack.add_message(CHANNEL, "The ZenCam LED blinks amber", user="UBOB", thread_ts=root, ts=earlier_ts())
    await slack.event(mention("what does that mean?", user="UCAROL", thread_ts=root))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body])
    seen = contents(fake_openai.requests[0])
    assert "blinks amber" in seen and seen.count("lobby camera log") < 1_500  # the oldest is what gets cut
