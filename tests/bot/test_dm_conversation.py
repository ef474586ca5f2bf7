"""A DM is one conversation, as customers write it: top-level messages share memory, failure count,
hand-off and relay until the conversation goes idle; Sarah answers under the message she answers."""

from __future__ import annotations

from redis.asyncio import Redis

from sarah_testing.handoff_steps import AGENT, cards, press, relay_ready
from sarah_testing.openai_chat import FakeOpenAI, ToolCall, echo_responder, user_lines
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, new_ts, slash_command
from tests.conftest import SUPPORT_CHANNEL, StartSarah

CUSTOMER_DM = "D0CUSTOMER"
POINTER = "sarah:{user:UCUSTOMER}:dm"


async def answer_under(slack: FakeSlack, ts: str, fragment: str = "") -> str:
    found = await slack.wait_for(lambda: [m.body for m in slack.thread(CUSTOMER_DM, ts) if fragment in m.body])
    return str(found[-1])


async def test_top_level_dms_continue_one_conversation_and_each_answer_sits_under_its_message(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    first, second = new_ts(), new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    assert "my ZenHub light is red" in await answer_under(fake_slack, first, "Answering")
    await slack.event(dm("it is still red after a restart", ts=second))
    answer = await answer_under(fake_slack, second, "Answering")
    # the model saw the first message too: one conversation, not two
    assert "my ZenHub light is red" in answer and "still red after a restart" in answer
    assert len(fake_slack.thread(CUSTOMER_DM, first)) == 1  # nothing more under the first message
    assert await redis.exists(f"sarah:{{{CUSTOMER_DM}:{first}}}:state")
    assert not await redis.exists(f"sarah:{{{CUSTOMER_DM}:{second}}}:state")
    # a reply in the thread of the second message belongs to the same conversation
    await slack.event(dm("and the app says offline", thread_ts=second))
    answer = await answer_under(fake_slack, second, "app says offline")
    assert "my ZenHub light is red" in answer


async def test_failures_across_top_level_dms_hand_the_customer_to_a_person(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: (
        ToolCall("unknown_answer", "Asked about a fridge") if "fridge" in user_lines(request)[-1] else "ok"
    )
    _, slack = await start_sarah(handoff={"handoff_after_failures": 2})
    first, second = new_ts(), new_ts()
    await slack.event(dm("does the ZenNest fridge keep milk cold?", ts=first))
    await answer_under(fake_slack, first, "couldn't solve that one yet")
    assert cards(fake_slack) == []
    await slack.event(dm("what about the fridge app then?", ts=second))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert "*Failures*\n2" in card.body
    await answer_under(fake_slack, second, "handing this conversation")
    await relay_ready(card)
    # the customer keeps writing at the top level: it reaches the card's thread, Sarah stays silent
    third = new_ts()
    await slack.event(dm("please hurry, the milk is warm", ts=third))
    await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread(SUPPORT_CHANNEL, card.ts) if "milk is warm" in m.body]
    )
    # the agent's reply reaches the customer under their latest message
    fake_slack.channel_members[SUPPORT_CHANNEL] = ["USARAH", AGENT]
    await slack.event(channel_message("Hi, I'm on it", thread_ts=card.ts, user=AGENT, channel=SUPPORT_CHANNEL))
    await answer_under(fake_slack, third, "I'm on it")
    assert fake_openai.requests and all("milk is warm" not in user_lines(r)[-1] for r in fake_openai.requests)


async def test_an_idle_conversation_ends_unless_it_is_with_the_team(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_openai.responder = echo_responder
    _, slack = await start_sarah()
    first = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    await answer_under(fake_slack, first, "Answering")
    # three hours later (DM_CONVERSATION_IDLE_MINUTES is 120): the next message starts afresh
    await redis.hset(POINTER, f"c:{CUSTOMER_DM}", f"{first} {float(first.split('.')[0]) - 3 * 3600}")
    later = new_ts()
    await slack.event(dm("how do I add a camera?", ts=later))
    answer = await answer_under(fake_slack, later, "Answering")
    assert "ZenHub light" not in answer
    assert await redis.exists(f"sarah:{{{CUSTOMER_DM}:{later}}}:state")

    # a conversation with the support team never goes idle: the customer is still waiting for a person
    await slack.event(dm("I want to talk to a real person", ts=new_ts()))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    await relay_ready(card)
    await redis.hset(POINTER, f"c:{CUSTOMER_DM}", f"{later} {float(later.split('.')[0]) - 3 * 3600}")
    await slack.event(dm("any news?", ts=new_ts()))
    await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(SUPPORT_CHANNEL, card.ts) if "any news?" in m.body])
    assert all("any news?" not in user_lines(r)[-1] for r in fake_openai.requests)


async def test_an_assistant_thread_is_its_own_conversation(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    first = new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    await answer_under(fake_slack, first, "Answering")
    assistant_thread = new_ts()  # started by Slack (assistant_thread_started): not one of the customer's messages
    await slack.event(dm("how do I add a camera?", thread_ts=assistant_thread))
    answer = await answer_under(fake_slack, assistant_thread, "Answering")
    assert "ZenHub" not in answer


async def test_commands_act_on_the_dm_conversation(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    first, second = new_ts(), new_ts()
    await slack.event(dm("my ZenHub light is red", ts=first))
    await answer_under(fake_slack, first, "Answering")
    await slack.event(dm("still red", ts=second))
    await answer_under(fake_slack, second, "still red")
    status, text = await slack.command(slash_command("reset"))
    assert status == 200 and "Fresh start" in text
    third = new_ts()
    await slack.event(dm("how do I add a camera?", ts=third))
    answer = await answer_under(fake_slack, third, "Answering")
    assert "ZenHub" not in answer  # a new episode of the same conversation
    human = slash_command("human")
    status, _ = await slack.command(human)
    assert status == 200 and "handing you to our support team" in await fake_slack.answer_to(human)
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert "how do I add a camera?" in card.body
    await answer_under(fake_slack, third, "handing this conversation")  # told where they wrote last
    await relay_ready(card)
    fake_slack.channel_members[SUPPORT_CHANNEL] = ["USARAH", AGENT]
    await press(slack, fake_slack, "sarah_resolve", card)
    await answer_under(fake_slack, third, "marked this conversation as resolved")
    forget = slash_command("forget")
    await slack.command(forget)
    assert "deleted 1 conversation" in await fake_slack.answer_to(forget)
    assert not await redis.exists(POINTER)
