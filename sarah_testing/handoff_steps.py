"""The steps of a hand-off as the tests take them: a customer who asks for a person, the card in the
support channel, the buttons the team presses, and waits for what Sarah says or records.

They drive Sarah through the fakes of Slack (`FakeSlack`, `SlackSender`) and read her Redis at
REDIS_TEST_URL; the settings the tests start her with put the cards in SUPPORT_CHANNEL.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from sarah_testing.redis_process import REDIS_TEST_URL
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import SlackSender, button_press, dm, new_ts

SUPPORT_CHANNEL = "C0SUPPORT"

AGENT = "UAGENT"
CUSTOMER_DM = "D0CUSTOMER"


def cards(slack: FakeSlack) -> list[Posted]:
    return [m for m in slack.messages if m.channel == SUPPORT_CHANNEL and m.thread_ts is None]


def in_thread(slack: FakeSlack, channel: str, ts: str) -> list[str]:
    return [m.body for m in slack.thread(channel, ts)]


async def said(slack: FakeSlack, channel: str, ts: str, fragment: str) -> list[str]:
    return await slack.wait_for(lambda: [b for b in in_thread(slack, channel, ts) if fragment in b])


async def escalated_dm(slack: SlackSender, fake_slack: FakeSlack) -> tuple[str, Posted]:
    root = new_ts()
    await slack.event(dm("I want to talk to a real person", ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    await relay_ready(card)
    return root, card


async def relay_ready(card: Posted) -> None:
    """Wait until Sarah has recorded the card's thread as a relay (a moment after the card shows)."""
    client = Redis.from_url(REDIS_TEST_URL)
    try:
        for _ in range(200):
            if await client.hget(f"sarah:{{{card.channel}:{card.ts}}}:state", "relay_to"):
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("the card's thread never became a relay")
    finally:
        await client.aclose()


async def committed(redis: Redis, channel: str, root: str) -> None:
    """Wait until Sarah has recorded her answer in Redis (Slack shows it a moment before)."""
    for _ in range(500):
        if not await redis.hlen(f"sarah:{{{channel}:{root}}}:queue"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the answer was never recorded")


async def press(
    slack: SlackSender,
    fake_slack: FakeSlack,
    action: str,
    message: Posted,
    user: str = AGENT,
    channel: str = SUPPORT_CHANNEL,
) -> None:
    """Press a button; "sarah_helped" / "sarah_not_helped" press Slack's native feedback_buttons
    (👍 / 👎 of the context_actions block) where the answer has them."""
    native = [e for b in message.blocks if b.get("type") == "context_actions" for e in b["elements"]]
    if native and action in ("sarah_helped", "sarah_not_helped"):
        side = "positive_button" if action == "sarah_helped" else "negative_button"
        action, value = native[0]["action_id"], native[0][side]["value"]
        payload = button_press(action, value, user=user, channel=channel, message=fake_slack.as_payload(message))
        payload["actions"][0]["type"] = "feedback_buttons"
        assert await slack.press(payload) == 200
        return
    value = next(
        e["value"]
        for b in message.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    )
    assert (
        await slack.press(
            button_press(action, value, user=user, channel=channel, message=fake_slack.as_payload(message))
        )
        == 200
    )
