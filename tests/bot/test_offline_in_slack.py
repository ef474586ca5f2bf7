"""A workspace without an OpenAI account: Sarah in Slack answers with the offline model."""

from __future__ import annotations

from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import SUPPORT_CHANNEL, StartSarah

NO_API = {"openai_api_key": None, "openai_base_url": None}


async def test_slack_with_the_offline_model_answers_from_the_knowledge_base_and_hands_off(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(model=NO_API, handoff={"handoff_after_failures": 1})
    question = new_ts()
    await slack.event(dm("How much does Zen Plus cost per month?", ts=question))
    answer = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", question) if "typing" not in m.body]
    )
    assert "4.99" in answer[0].body  # the price in the knowledge base

    unknown = new_ts()
    await slack.event(dm("My ZenNest robot vacuum keeps getting stuck under the sofa", ts=unknown))
    card = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.messages if m.channel == SUPPORT_CHANNEL and m.thread_ts is None]
    )
    assert "robot vacuum" in card[0].body
    assert fake_openai.requests == []  # no API was called
