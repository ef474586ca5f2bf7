"""Sarah hands a thread to people: after enough failures, or at once when asked; the team takes it
over from Slack; nobody is answered by Sarah and a person at the same time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, committed, escalated_dm, in_thread, press, said
from sarah_testing.openai_chat import Delay, FakeOpenAI, HttpError, ToolCall, echo_responder, user_lines
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts, slash_command
from tests.conftest import SUPPORT_CHANNEL, StartSarah


async def test_an_explicit_request_hands_off_at_once_with_one_card(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    await said(fake_slack, CUSTOMER_DM, root, "handing this conversation to our support team")
    body = card.body
    assert "The customer asked for a person" in body
    assert "<@UCUSTOMER>" in body and "I want to talk to a real person" in body
    assert fake_slack.buttons(card) == ["sarah_claim", "sarah_resolve", "sarah_hand_back"]
    assert all("Answering" not in b for b in in_thread(fake_slack, CUSTOMER_DM, root))
    await slack.event(dm("hello? anyone?", thread_ts=root))  # while waiting Sarah says nothing
    await fake_slack.wait_for(lambda: any("hello? anyone?" in m.body for m in fake_slack.messages))
    await asyncio.sleep(0.3)
    assert len(cards(fake_slack)) == 1
    assert not [r for r in fake_openai.requests if user_lines(r)[-1:] == ["hello? anyone?"]]


async def test_model_signals_count_and_the_threshold_follows_the_setting(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: (
        ToolCall("unknown_answer", "Asked about a ZenFridge")
        if "fridge" in user_lines(request)[-1]
        else HttpError(503)
        if "outage" in user_lines(request)[-1]
        else echo_responder(request)
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 3})
    root = new_ts()
    await slack.event(dm("does the ZenNest fridge keep milk cold?", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "couldn't solve that one yet")
    await slack.event(dm("there is an outage?", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "couldn't reach my knowledge")
    assert cards(fake_slack) == []
    await slack.event(dm("ok, and the fridge app?", thread_ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert "*Failures*\n3" in card.body and "Sarah does not know the answer" in card.body
    await said(fake_slack, CUSTOMER_DM, root, "handing this conversation")


async def test_didnt_help_and_it_did_not_work_about_one_answer_count_once(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah(handoff={"handoff_after_failures": 2})
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    answer = (
        await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CUSTOMER_DM, root) if "Answering" in m.body])
    )[0]
    assert fake_slack.buttons(answer) == ["sarah_feedback_buttons"]  # Slack's native 👍 / 👎
    await press(slack, fake_slack, "sarah_not_helped", answer, user="UCUSTOMER", channel=CUSTOMER_DM)
    await said(fake_slack, CUSTOMER_DM, root, "Sorry that didn't help")
    await slack.event(dm("yes it didn't work", thread_ts=root))  # the same answer: no second count
    await eventually(lambda: len(fake_openai.requests) == 2)
    await said(fake_slack, CUSTOMER_DM, root, "yes it didn't work")
    state = await redis.hgetall(f"sarah:{{{CUSTOMER_DM}:{root}}}:state")
    assert state[b"failures"] == b"1" and cards(fake_slack) == []
    await slack.event(dm("still not working", thread_ts=root))  # about the newer answer: counts
    await fake_slack.wait_for(lambda: cards(fake_slack))


STEPS = "Unplug the hub for 10 seconds, then plug it back in. Tell me what you see now."
ANYTHING_ELSE = "The ZenHub costs $129. Anything else about your ZenNest home I can help with?"


@pytest.mark.parametrize(
    ("first_answer", "counts"), [(STEPS, True), (ANYTHING_ELSE, False)], ids=["after-steps", "after-anything-else"]
)
async def test_nope_nothing_is_a_failure_after_steps_and_not_after_anything_else(
    start_sarah: StartSarah,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    redis: Redis,
    first_answer: str,
    counts: bool,
) -> None:
    fake_openai.responder = lambda request: first_answer if len(user_lines(request)) == 1 else echo_responder(request)
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, first_answer[:20])
    await committed(redis, CUSTOMER_DM, root)
    await slack.event(dm("nope, nothing", thread_ts=root))
    if counts:  # the steps did not work: the one failure allowed hands the thread to people
        await fake_slack.wait_for(lambda: cards(fake_slack))
        await said(fake_slack, CUSTOMER_DM, root, "handing this conversation")
    else:  # "nothing else": Sarah answers it, and nothing was counted against her
        await said(fake_slack, CUSTOMER_DM, root, "Answering:")
        await committed(redis, CUSTOMER_DM, root)
        assert cards(fake_slack) == []
        assert await redis.hget(f"sarah:{{{CUSTOMER_DM}:{root}}}:state", "failures") in (None, b"0")


async def test_an_answer_in_flight_when_the_customer_asks_for_a_person_is_never_posted(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(1.0, "DRAFT: try turning it off and on")
    _, slack = await start_sarah(worker={"coalesce_seconds": 0, "max_redrafts": 0})
    root = new_ts()
    await slack.event(dm("my ZenLock is jammed", ts=root))
    await eventually(lambda: fake_openai.requests)  # the model is drafting now
    await slack.event(dm("actually, get me a human", thread_ts=root))
    await fake_slack.wait_for(lambda: cards(fake_slack))
    await asyncio.sleep(1.5)
    customer_sees = in_thread(fake_slack, CUSTOMER_DM, root)
    assert not any("DRAFT" in b for b in customer_sees)
    assert any("handing this conversation" in b for b in customer_sees)


async def test_an_agent_posting_in_a_channel_thread_takes_it_over_and_sarahs_draft_is_dropped(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Support"}
    fake_openai.responder = lambda request: Delay(1.0, "DRAFT " + echo_responder(request))
    _, slack = await start_sarah(worker={"coalesce_seconds": 0, "max_redrafts": 0})
    root = new_ts()
    await slack.event(mention("my camera is offline", ts=root))
    await eventually(lambda: fake_openai.requests)
    await slack.event(
        channel_message("Hi, Ana from support here, I'll check this with you.", thread_ts=root, user=AGENT)
    )
    await said(fake_slack, "C0GENERAL", root, "Ana Support from the ZenNest support team has joined")
    await asyncio.sleep(1.5)
    assert not any("DRAFT" in b for b in in_thread(fake_slack, "C0GENERAL", root))
    requests = len(fake_openai.requests)
    await slack.event(channel_message("thanks Ana!", thread_ts=root))
    await asyncio.sleep(0.5)
    assert len(fake_openai.requests) == requests  # Sarah stays out of a thread a person has


async def test_relay_both_ways_in_a_dm_with_notes_kept_internal(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]  # only the support team's lines are relayed
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Support"}
    fake_slack.users["UCUSTOMER"] = {"id": "UCUSTOMER", "name": "cris", "real_name": "Cris Customer"}
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)

    await slack.event(
        channel_message("Hello Cris, what model is your hub?", thread_ts=card.ts, channel=SUPPORT_CHANNEL, user=AGENT)
    )
    relayed = await said(fake_slack, CUSTOMER_DM, root, "what model is your hub?")
    assert relayed[0].startswith("*Ana Support* (ZenNest support)")
    await said(fake_slack, CUSTOMER_DM, root, "Ana Support from the ZenNest support team has joined")

    await slack.event(
        channel_message(
            "note: customer sounds upset, be gentle", thread_ts=card.ts, channel=SUPPORT_CHANNEL, user=AGENT
        )
    )
    await slack.event(dm("It's the ZenHub 2", thread_ts=root))
    await said(fake_slack, SUPPORT_CHANNEL, card.ts, "It's the ZenHub 2")
    assert not any("upset" in b for b in in_thread(fake_slack, CUSTOMER_DM, root))
    await slack.event(dm("", thread_ts=root, subtype="file_share", files=[{"id": "F9"}]))
    await said(fake_slack, SUPPORT_CHANNEL, card.ts, "sent a file, which I can't pass on")
    assert "Claimed by <@UAGENT>" in card.body  # answering in the card's thread claims it


async def test_only_the_support_team_can_claim_and_the_card_follows_claim_and_resolve(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Support"}
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)

    await press(slack, fake_slack, "sarah_claim", card, user="UINTRUDER")
    refusal = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert refusal[0]["user"] == "UINTRUDER" and "Only the support team" in refusal[0]["text"]
    assert "Waiting for an agent" in card.body
    assert (await redis.hget(f"sarah:{{{CUSTOMER_DM}:{root}}}:state", "owner")) == b"waiting"

    await press(slack, fake_slack, "sarah_claim", card)
    await fake_slack.wait_for(lambda: "Claimed by <@UAGENT> after 0 min" in card.body)
    assert fake_slack.buttons(card) == ["sarah_resolve", "sarah_hand_back"]
    await said(fake_slack, CUSTOMER_DM, root, "Ana Support from the ZenNest support team has joined")

    await press(slack, fake_slack, "sarah_resolve", card)
    await fake_slack.wait_for(lambda: "Resolved by <@UAGENT>" in card.body)
    assert fake_slack.buttons(card) == []
    await said(fake_slack, CUSTOMER_DM, root, "marked this conversation as resolved")


async def test_hand_back_resets_the_count_and_sarah_answers_the_new_episode(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    fake_openai.responder = lambda request: (
        ToolCall("steps_failed") if "broken" in user_lines(request)[-1] else echo_responder(request)
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(dm("my ZenGlow is broken", ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    await press(slack, fake_slack, "sarah_hand_back", card)
    await said(fake_slack, CUSTOMER_DM, root, "handed this conversation back to me")
    await fake_slack.wait_for(lambda: "Handed back to Sarah by <@UAGENT>" in card.body)
    assert (await redis.hget(f"sarah:{{{CUSTOMER_DM}:{root}}}:state", "failures")) == b"0"

    await slack.event(dm("thanks, how do I set a ZenScene?", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering: thanks, how do I set a ZenScene?")
    messages = fake_openai.requests[-1]["messages"]
    assert "my ZenGlow is broken" not in str(messages)  # the old episode cannot trigger a new hand-off
    assert "handed this conversation back to me" in messages[1]["content"]
    assert len(cards(fake_slack)) == 1


async def test_an_unclaimed_card_is_announced_again_once_per_interval(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah(handoff={"handoff_reminder_minutes": 0.02})  # 1.2 s
    _, card = await escalated_dm(slack, fake_slack)
    reminders = lambda: [m for m in fake_slack.thread(SUPPORT_CHANNEL, card.ts) if "Still waiting" in m.body]  # noqa: E731
    await fake_slack.wait_for(reminders, within=5)
    await asyncio.sleep(0.6)
    assert len(reminders()) == 1  # not again before the interval is over
    broadcast = [c for c in fake_slack.calls_to("chat.postMessage") if "Still waiting" in str(c.get("text"))]
    assert broadcast[0]["reply_broadcast"] in (True, "true", "1")


async def test_hand_off_state_survives_a_restart_of_sarah(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    first, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    await first.stop()

    _, slack2 = await start_sarah()
    await press(slack2, fake_slack, "sarah_claim", card)
    await fake_slack.wait_for(lambda: "Claimed by <@UAGENT>" in card.body)
    await slack2.event(channel_message("Hi, it's Ana", thread_ts=card.ts, channel=SUPPORT_CHANNEL, user=AGENT))
    await said(fake_slack, CUSTOMER_DM, root, "Hi, it's Ana")


async def test_slash_sarah_human_hands_off_the_latest_thread(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my thermostat shows E4", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    human = slash_command("human")
    status, body = await slack.command(human)
    assert status == 200 and "One moment" in body
    assert "handing you to our support team" in await fake_slack.answer_to(human)
    await said(fake_slack, CUSTOMER_DM, root, "handing this conversation to our support team")
    card: Any = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert "my thermostat shows E4" in card.body


async def test_only_the_customer_can_rate_an_answer_in_a_channel_thread(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(mention("how do I add a ZenSense?", ts=root))
    answer = (
        await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("C0GENERAL", root) if "Answering" in m.body])
    )[0]
    await press(slack, fake_slack, "sarah_not_helped", answer, user="UBYSTANDER", channel="C0GENERAL")
    refusal = await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
    assert "Only the person who asked" in refusal[0]["text"]
    await asyncio.sleep(0.3)
    assert fake_slack.buttons(answer) == ["sarah_feedback_buttons"] and cards(fake_slack) == []


async def test_consecutive_counting_forgives_a_failure_after_a_good_answer(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_openai.responder = lambda request: (
        HttpError(500) if "outage" in user_lines(request)[-1] else echo_responder(request)
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 2, "handoff_count": "consecutive"})
    root = new_ts()
    await slack.event(dm("outage one", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "couldn't reach my knowledge")
    await slack.event(dm("how do I pair a ZenLock?", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    assert await redis.hget(f"sarah:{{{CUSTOMER_DM}:{root}}}:state", "failures") == b"0"
    await slack.event(dm("outage two", thread_ts=root))
    await eventually(lambda: len([b for b in in_thread(fake_slack, CUSTOMER_DM, root) if "knowledge" in b]) == 2)
    assert cards(fake_slack) == []  # in total mode this second failure would have handed off


async def test_when_the_model_is_down_the_card_carries_a_plain_summary(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: HttpError(503)
    _, slack = await start_sarah(handoff={"handoff_after_failures": 1})
    root = new_ts()
    await slack.event(dm("my ZenTherm shows E5 after the update", ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert "First message: “my ZenTherm shows E5 after the update”" in card.body
    assert "Sarah's model was unavailable" in card.body


async def test_slash_sarah_reset_starts_a_fresh_episode(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenCam is blurry", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    await committed(redis, CUSTOMER_DM, root)
    status, body = await slack.command(slash_command("reset"))
    assert status == 200 and "Fresh start" in body
    await slack.event(dm("new topic: billing dates", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering: new topic: billing dates")
    assert "blurry" not in str(fake_openai.requests[-1]["messages"])


async def test_a_support_member_asking_sarah_in_a_channel_is_answered_not_taken_over(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("what does a purple hub light mean?", ts=root, user=AGENT))
    await said(fake_slack, "C0GENERAL", root, "Answering: what does a purple hub light mean?")
    await slack.event(channel_message("and a red one?", thread_ts=root, user=AGENT))
    await said(fake_slack, "C0GENERAL", root, "Answering: what does a purple hub light mean? | and a red one?")
