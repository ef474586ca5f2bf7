"""Slack hears back at once from every button and `/sarah` command, however slowly its Web API
answers (Slack shows the person an error after 3 s): the work is done after the acknowledgement,
and still done; work that fails then is told to the person."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from redis.asyncio import Redis

from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, in_thread, press, relay_ready
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import SlackSender, button_press, dm, new_ts, slash_command, view_submission
from tests.conftest import SUPPORT_CHANNEL, StartSarah

SLOW = 2.0  # seconds every Web API call takes once the test starts pressing
QUICK = 1.0  # each acknowledgement comes back sooner than this
WITHIN = 45.0  # the work behind a press, a few Web API calls at SLOW pace each
OTHER, OTHER_DM = "UOTHER", "D0OTHER"

T = TypeVar("T")


async def acknowledged(request: Awaitable[T]) -> T:
    """Send a press or command; it must be answered sooner than QUICK."""
    started = time.perf_counter()
    answer = await request
    took = time.perf_counter() - started
    assert took < QUICK, f"Slack waited {took:.1f} s for the acknowledgement"
    return answer


async def escalated(slack: SlackSender, fake_slack: FakeSlack, user: str, channel: str) -> tuple[str, Posted]:
    root = new_ts()
    await slack.event(dm("I want to talk to a real person", user=user, channel=channel, ts=root))
    card = (await fake_slack.wait_for(lambda: [c for c in cards(fake_slack) if f"<@{user}>" in c.body]))[0]
    await relay_ready(card)
    return root, card


async def told(fake_slack: FakeSlack, channel: str, ts: str, fragment: str) -> None:
    await fake_slack.wait_for(lambda: any(fragment in b for b in in_thread(fake_slack, channel, ts)), within=WITHIN)


async def test_card_buttons_answer_at_once_and_change_hands_after(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    first, first_card = await escalated(slack, fake_slack, "UCUSTOMER", CUSTOMER_DM)
    second, second_card = await escalated(slack, fake_slack, OTHER, OTHER_DM)
    fake_slack.delay = SLOW

    await acknowledged(press(slack, fake_slack, "sarah_claim", first_card))
    await acknowledged(press(slack, fake_slack, "sarah_resolve", first_card))  # after the claim's work
    await acknowledged(press(slack, fake_slack, "sarah_hand_back", second_card))

    await told(fake_slack, CUSTOMER_DM, first, "has joined and will help you")
    await told(fake_slack, CUSTOMER_DM, first, "marked this conversation as resolved")
    await told(fake_slack, OTHER_DM, second, "handed this conversation back to me")
    await fake_slack.wait_for(lambda: "Resolved" in first_card.body and "Claimed" not in second_card.body)
    joined, resolved = (
        next(i for i, b in enumerate(in_thread(fake_slack, CUSTOMER_DM, first)) if fragment in b)
        for fragment in ("has joined", "marked this conversation as resolved")
    )
    assert joined < resolved  # in the order they were pressed
    assert not fake_slack.calls_to("chat.postEphemeral")  # nothing went wrong, nothing to tell


async def test_the_customers_buttons_and_the_comment_answer_at_once_and_are_recorded_after(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    root, card = await escalated(slack, fake_slack, "UCUSTOMER", CUSTOMER_DM)
    await press(slack, fake_slack, "sarah_claim", card)
    await press(slack, fake_slack, "sarah_resolve", card)
    question = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread(CUSTOMER_DM, root) if "How did our support team do?" in m.body]
    )
    asked = new_ts()
    await slack.event(dm("my ZenHub light is red", user=OTHER, channel=OTHER_DM, ts=asked))
    answer = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread(OTHER_DM, asked) if fake_slack.buttons(m)], within=WITHIN
    )
    await escalated(slack, fake_slack, "UTHIRD", "D0THIRD")  # open: the agent's App Home lists it, with a link
    assert await slack.event({"type": "app_home_opened", "user": AGENT, "channel": "D0HOME", "tab": "home"}) == 200
    home = await fake_slack.wait_for(lambda: fake_slack.home_views.get(AGENT))
    link = next(b["accessory"] for b in home["blocks"] if "accessory" in b)
    fake_slack.delay = SLOW

    await acknowledged(press(slack, fake_slack, "sarah_not_helped", answer[0], user=OTHER, channel=OTHER_DM))
    await told(fake_slack, OTHER_DM, asked, "Sorry that didn't help")

    await acknowledged(press(slack, fake_slack, "sarah_rate_4", question[0], user="UCUSTOMER", channel=CUSTOMER_DM))
    await fake_slack.wait_for(lambda: "rated 4/5" in card.body, within=WITHIN)
    await acknowledged(
        press(slack, fake_slack, "sarah_rating_comment", question[0], user="UCUSTOMER", channel=CUSTOMER_DM)
    )
    modal = (await fake_slack.wait_for(lambda: fake_slack.modals, within=WITHIN))[0]
    comment = {"comment": {"text": {"type": "plain_text_input", "value": "Ana was quick"}}}
    assert await acknowledged(slack.press(view_submission(modal, comment, user="UCUSTOMER"))) == 200
    await told(fake_slack, SUPPORT_CHANNEL, card.ts, "Ana was quick")

    opened: dict[str, Any] = button_press(link["action_id"], "", user=AGENT, channel="D0HOME", message={"ts": "1.0"})
    opened["container"] = {"type": "view", "view_id": "V1"}
    assert await acknowledged(slack.press(opened)) == 200  # a link: Slack opens the card itself


async def test_sarah_commands_answer_at_once_and_follow_up_when_done(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenCam is blurry", ts=root))
    await told(fake_slack, CUSTOMER_DM, root, "Answering")
    fake_slack.delay = SLOW

    status, body = await acknowledged(slack.command(slash_command("")))
    assert status == 200 and "`/sarah human`" in body
    status, body = await acknowledged(slack.command(slash_command("reset")))  # Redis only: answered at once
    assert status == 200 and "Fresh start" in body

    human = slash_command("human")
    status, body = await acknowledged(slack.command(human))
    assert status == 200 and "One moment" in body
    assert "handing you to our support team" in await fake_slack.answer_to(human, within=WITHIN)
    await fake_slack.wait_for(lambda: cards(fake_slack), within=WITHIN)
    await told(fake_slack, CUSTOMER_DM, root, "handing this conversation to our support team")

    forget = slash_command("forget")
    status, body = await acknowledged(slack.command(forget))
    assert status == 200 and "Deleting" in body
    assert "I deleted 1 conversation" in await fake_slack.answer_to(forget, within=WITHIN)
    assert not await redis.exists(f"sarah:{{{CUSTOMER_DM}:{root}}}:state")


async def test_a_press_whose_work_fails_tells_the_agent(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    _, card = await escalated(slack, fake_slack, "UCUSTOMER", CUSTOMER_DM)
    fake_slack.failing.add("chat.postMessage")  # the customer cannot be told the agent joined
    await acknowledged(press(slack, fake_slack, "sarah_claim", card))
    notes = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert notes[0]["user"] == AGENT and "something went wrong on my side" in notes[0]["text"]
