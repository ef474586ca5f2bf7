"""Opening Sarah's Messages tab (agent surface) or an assistant thread offers the suggested prompts."""

from __future__ import annotations

import pytest

from config import load_settings
from config.errors import SettingsError
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import SUPPORT_CHANNEL, StartSarah

CUSTOMER_DM = "D0CUSTOMER"


def home_opened(tab: str) -> dict[str, object]:
    return {"type": "app_home_opened", "user": "UCUSTOMER", "channel": CUSTOMER_DM, "tab": tab, "event_ts": new_ts()}


async def test_opening_the_messages_tab_offers_the_prompts(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    assert await slack.event(home_opened("messages")) == 200
    call = (await fake_slack.wait_for(lambda: fake_slack.calls_to("assistant.threads.setSuggestedPrompts")))[0]
    assert call["channel_id"] == CUSTOMER_DM and "thread_ts" not in call  # agent apps: no thread_ts
    assert call["title"] == "Hi, I'm Sarah from ZenNest. How can I help?"
    assert [p["message"] for p in call["prompts"]] == [
        "Set up my ZenHub",
        "Why is my camera offline?",
        "Talk to a person",
    ]
    await slack.event(home_opened("home"))  # the Home tab is not this listener's
    assert len(fake_slack.calls_to("assistant.threads.setSuggestedPrompts")) == 1
    assert fake_openai.requests == []


async def test_an_assistant_thread_gets_a_title_and_the_configured_prompts(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah(texts={"suggested_prompts": "My thermostat is cold | Talk to a person"})
    thread_ts = new_ts()
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "UCUSTOMER",
            "context": {"channel_id": "C0GENERAL", "team_id": "TZEN"},
            "channel_id": CUSTOMER_DM,
            "thread_ts": thread_ts,
        },
        "event_ts": new_ts(),
    }
    assert await slack.event(started) == 200
    call = (await fake_slack.wait_for(lambda: fake_slack.calls_to("assistant.threads.setSuggestedPrompts")))[0]
    assert call["thread_ts"] == thread_ts
    assert [p["title"] for p in call["prompts"]] == ["My thermostat is cold", "Talk to a person"]
    title = fake_slack.calls_to("assistant.threads.setTitle")[0]
    assert title["thread_ts"] == thread_ts and title["title"] == "ZenNest support"


async def test_a_refused_prompt_call_is_not_retried_by_slack(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.failing.add("assistant.threads.setSuggestedPrompts")  # e.g. a workspace without the feature
    _, slack = await start_sarah()
    assert await slack.event(home_opened("messages")) == 200


def test_too_many_prompts_name_the_setting() -> None:
    with pytest.raises(SettingsError, match="SUGGESTED_PROMPTS"):
        load_settings(None, texts={"suggested_prompts": "a|b|c|d|e"})


async def test_tapping_talk_to_a_person_hands_the_customer_over(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    await slack.event(home_opened("messages"))
    call = (await fake_slack.wait_for(lambda: fake_slack.calls_to("assistant.threads.setSuggestedPrompts")))[0]
    tapped = next(p["message"] for p in call["prompts"] if p["title"] == "Talk to a person")
    root = new_ts()
    await slack.event(dm(tapped, ts=root))  # a tap sends the prompt's message as the customer's own
    await fake_slack.wait_for(lambda: [m for m in fake_slack.messages if m.channel == SUPPORT_CHANNEL])
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CUSTOMER_DM, root) if "support team" in m.body])
    # no answer was drafted: the model was only asked for the card's summary
    assert all(r["messages"][0]["content"].startswith("You write hand-off notes") for r in fake_openai.requests)
