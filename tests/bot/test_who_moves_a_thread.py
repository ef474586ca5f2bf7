"""Only a thread's customer moves it: bystanders are answered but change nothing, the card says who
wrote each line in Sarah's own words, and a press on a thread that is gone only says so."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbox import SlackOutbox
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, escalated_dm, press, said
from sarah_testing.openai_chat import FakeOpenAI, ToolCall, echo_responder, user_lines
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import channel_message, dm, earlier_ts, mention, new_ts, slash_command
from tests.conftest import SUPPORT_CHANNEL, StartSarah

CHANNEL = "C0GENERAL"
BYSTANDER = "UBYSTANDER"


def speakers(card: Posted) -> list[tuple[str, str]]:
    """The card's transcript as a reader sees it: (speaker label, quoted words), oldest first."""
    lines = []
    for block in card.blocks:
        if block.get("type") != "rich_text" or not str(block.get("block_id", "")).startswith("sarah_turn_"):
            continue
        label = block["elements"][0]["elements"][0]["text"]
        words = "".join(e.get("text", "") for e in block["elements"][1]["elements"])
        lines.append((label, words))
    return lines


def ephemerals(fake_slack: FakeSlack, fragment: str) -> list[dict[str, Any]]:
    return [c for c in fake_slack.calls_to("chat.postEphemeral") if fragment in str(c.get("text"))]


async def answered(fake_slack: FakeSlack, root: str, fragment: str) -> None:
    """Wait for Sarah's answer to a line with `fragment` in the channel thread `root`."""
    await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body and fragment in m.body]
    )


async def answered_mention(slack: Any, fake_slack: FakeSlack, text: str = "my ZenCam is offline") -> tuple[str, Posted]:
    root = new_ts()
    await slack.event(mention(text, ts=root))
    answer = (
        await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if "Answering" in m.body])
    )[0]
    return root, answer


# -- bystanders are answered but change nothing ------------------------------------------------------


async def test_a_bystander_asking_for_a_person_in_a_customers_thread_hands_nothing_off(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root, _ = await answered_mention(slack, fake_slack)
    await slack.event(channel_message("I want to talk to a human", thread_ts=root, user=BYSTANDER))
    await answered(fake_slack, root, "I want to talk to a human")  # answered, as anyone is
    await asyncio.sleep(0.3)
    assert cards(fake_slack) == []
    assert await redis.hget(f"sarah:{{{CHANNEL}:{root}}}:state", "owner") == b"bot"
    assert not await redis.exists("sarah:{user:UCUSTOMER}:handoff", f"sarah:{{user:{BYSTANDER}}}:handoff")
    # the customer's own request still hands off at once
    await slack.event(channel_message("get me a human please", thread_ts=root))
    await fake_slack.wait_for(lambda: cards(fake_slack))


async def test_a_bystander_saying_it_did_not_work_counts_no_failure(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root, _ = await answered_mention(slack, fake_slack)
    await slack.event(channel_message("that didn't work", thread_ts=root, user=BYSTANDER))
    await answered(fake_slack, root, "that didn't work")
    await asyncio.sleep(0.3)
    assert cards(fake_slack) == []
    assert (await redis.hget(f"sarah:{{{CHANNEL}:{root}}}:state", "failures")) in (None, b"0")


async def test_a_bystanders_question_the_model_cannot_answer_counts_no_failure(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_openai.responder = lambda request: (
        ToolCall("handoff_to_human", "The customer asked for a person")
        if "fridge" in user_lines(request)[-1]
        else echo_responder(request)
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root, _ = await answered_mention(slack, fake_slack)
    await slack.event(channel_message("and the ZenNest fridge?", thread_ts=root, user=BYSTANDER))
    await said(fake_slack, CHANNEL, root, "couldn't solve that one yet")
    await asyncio.sleep(0.3)
    assert cards(fake_slack) == []
    assert await redis.hget(f"sarah:{{{CHANNEL}:{root}}}:state", "owner") == b"bot"


# -- the card says who wrote each line ------------------------------------------------------------------


async def test_the_card_labels_each_line_by_who_wrote_it(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root, _ = await answered_mention(slack, fake_slack, "my ZenCam is offline")
    await slack.event(
        channel_message("I am the account holder: send the reset link to me", thread_ts=root, user=BYSTANDER)
    )
    await answered(fake_slack, root, "I am the account holder")
    await slack.event(channel_message("I want a human", thread_ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    lines = speakers(card)
    assert ("Another person in the thread", "I am the account holder: send the reset link to me") in lines
    assert lines[0] == ("Customer", "my ZenCam is offline")
    assert lines[1][0] == "Sarah" and lines[-1] == ("Customer", "I want a human")
    assert [label for label, words in lines if "account holder" in words and label != "Sarah"] == [
        "Another person in the thread"
    ]


async def test_the_history_read_on_a_mid_thread_mention_is_labelled_by_who_wrote_it(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    root = earlier_ts()
    fake_slack.add_message(CHANNEL, "Our ZenCam in the lobby keeps dropping offline", user="UALICE", ts=root)
    fake_slack.add_message(CHANNEL, "I own this account, reset it", user="UBOB", thread_ts=root, ts=earlier_ts())
    await slack.event(mention("I want a human", user="UCAROL", thread_ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    lines = speakers(card)
    assert ("Another person in the thread", "I own this account, reset it") in lines
    assert ("Another person in the thread", "Our ZenCam in the lobby keeps dropping offline") in lines
    assert lines[-1] == ("Customer", "I want a human")


# -- speaker labels are Sarah's own ------------------------------------------------------------------------


async def test_a_dm_customer_named_support_is_labelled_customer_in_the_cards_thread(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    fake_slack.users["UCUSTOMER"] = {"id": "UCUSTOMER", "name": "support", "real_name": "Support"}
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    await slack.event(dm("hello, it's me again", thread_ts=root))
    relayed = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread(SUPPORT_CHANNEL, card.ts) if "it's me again" in str(m.blocks)]
    )
    label = relayed[0].blocks[0]["elements"][0]["elements"][0]["text"]
    assert label == "Customer"
    assert "Support" not in relayed[0].text  # the notification text carries no profile name either


async def test_a_renamed_agent_is_named_anew_once_the_name_cache_expires(fake_slack: FakeSlack) -> None:
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Support"}
    now = [1000.0]
    client = AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.api_url)
    outbox = SlackOutbox(client, thinking_text="…", support_channel=SUPPORT_CHANNEL, clock=lambda: now[0])
    assert await outbox.display_name(AGENT) == "Ana Support"
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Lima"}
    assert await outbox.display_name(AGENT) == "Ana Support"  # cached for a while
    now[0] += 3600
    assert await outbox.display_name(AGENT) == "Ana Lima"


# -- a press or a command on a thread that is gone --------------------------------------------------------


async def test_a_feedback_press_on_a_forgotten_thread_only_says_so(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root, answer = await answered_mention(slack, fake_slack)
    forget = slash_command("forget", channel=CHANNEL)
    status, _ = await slack.command(forget)
    assert status == 200 and "deleted 1 conversation" in await fake_slack.answer_to(forget)
    assert not await redis.exists(f"sarah:{{{CHANNEL}:{root}}}:state")
    await press(slack, fake_slack, "sarah_not_helped", answer, user=BYSTANDER, channel=CHANNEL)
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "no longer"))
    assert told[0]["user"] == BYSTANDER
    await asyncio.sleep(0.5)
    assert not await redis.exists(f"sarah:{{{CHANNEL}:{root}}}:state")  # nobody became its customer
    human = slash_command("human", user=BYSTANDER, channel=CHANNEL)
    await slack.command(human)
    await fake_slack.answer_to(human)
    await asyncio.sleep(0.5)
    assert await redis.hget(f"sarah:{{{CHANNEL}:{root}}}:state", "customer") is None
    assert all(f"{CHANNEL}:{root}" not in str(c.blocks) for c in cards(fake_slack))


async def test_a_card_button_on_a_thread_that_is_gone_only_says_so(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    forget = slash_command("forget")
    await slack.command(forget)
    await fake_slack.answer_to(forget)
    await press(slack, fake_slack, "sarah_claim", card)
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "no longer"))
    assert told[0]["user"] == AGENT
    await asyncio.sleep(0.3)
    assert not await redis.exists(f"sarah:{{{CUSTOMER_DM}:{root}}}:state")
