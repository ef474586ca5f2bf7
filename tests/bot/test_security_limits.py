"""Boundaries, limits and forget, over real HTTP: signed payloads in, what Slack received out.

Each test is one row of the matrix: commands on other people's threads, payloads from another
workspace or app, Slack Connect outsiders, replays, floods past each limit, and forget.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cli.embedded_redis import start_embedded_redis
from bot.cli.main import main as sarah_cli
from bot.runtime import Sarah, SlackStartError
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, committed, escalated_dm, in_thread, press, said
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import TEAM_ID, FakeSlack
from sarah_testing.slack_checks import ephemerals, model_saw, settle, start_of_a_minute
from sarah_testing.slack_payloads import (
    SlackSender,
    button_press,
    channel_message,
    dm,
    envelope,
    mention,
    new_ts,
    slash_command,
)
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah, sarah_settings

OUTSIDER = "UEXT"  # a member of the support channel from another organisation (Slack Connect)
BYSTANDER = "UBYSTANDER"


def state_key(channel: str, ts: str, name: str = "state") -> str:
    return f"sarah:{{{channel}:{ts}}}:{name}"


# -- commands act on the caller's own thread ----------------------------------------------------------


async def test_commands_in_a_channel_never_touch_someone_elses_thread(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my ZenLock beeps twice", ts=root))
    await said(fake_slack, "C0GENERAL", root, "Answering")
    await slack.event(channel_message("same here, following", thread_ts=root, user=BYSTANDER))

    status, body = await slack.command(slash_command("reset", user=BYSTANDER, channel="C0GENERAL"))
    assert status == 200 and "no conversation with me here to reset" in body
    human = slash_command("human", user=BYSTANDER, channel="C0GENERAL")
    status, _ = await slack.command(human)
    assert status == 200 and "handing you to our support team" in await fake_slack.answer_to(human)
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert f"<@{BYSTANDER}>" in card.body and "<@UCUSTOMER>" not in card.body  # the bystander's own thread
    assert not any("handing this conversation" in b for b in in_thread(fake_slack, "C0GENERAL", root))
    assert await redis.hget(state_key("C0GENERAL", root), "owner") == b"bot"
    assert b"reset" not in b"".join(await redis.lrange(state_key("C0GENERAL", root, "turns"), 0, -1))


async def test_reset_in_a_thread_sarah_was_never_part_of_resets_nothing(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    await slack.event(channel_message("lunch anyone?", thread_ts=new_ts(), user=BYSTANDER))
    status, body = await slack.command(slash_command("reset", user=BYSTANDER, channel="C0GENERAL"))
    assert status == 200 and "no conversation with me here to reset" in body
    forget = slash_command("forget", user=BYSTANDER, channel="C0GENERAL")
    await slack.command(forget)
    assert "no conversations of yours to delete" in await fake_slack.answer_to(forget)


async def test_reset_says_what_it_keeps_and_how_to_delete_it(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    _, slack = await start_sarah(retention={"conversation_ttl_days": 7})
    root = new_ts()
    await slack.event(dm("my ZenCam is blurry", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    _, body = await slack.command(slash_command("reset"))
    assert "Fresh start" in body and "for 7 days" in body and "/sarah forget" in body


# -- workspace and app boundaries -----------------------------------------------------------------------


def foreign(
    event: dict[str, Any], *, team: str = TEAM_ID, app: str = "ASARAH", org: str | None = None
) -> dict[str, Any]:
    payload = envelope(event)
    payload["team_id"], payload["api_app_id"] = team, app
    payload["authorizations"] = [{"team_id": team, "enterprise_id": org, "user_id": "USARAH", "is_bot": True}]
    if org:
        payload["enterprise_id"] = org
    return payload


@pytest.mark.parametrize(("team", "app"), [("TOTHER", "ASARAH"), (TEAM_ID, "AOTHER")])
async def test_events_from_another_workspace_or_app_are_acknowledged_and_dropped(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, team: str, app: str
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    assert await slack.payload(foreign(dm("hello from elsewhere", ts=root), team=team, app=app)) == 200
    command = {**slash_command("human"), "team_id": team, "api_app_id": app}
    status, body = await slack.command(command)
    assert status == 200 and body == ""
    await slack.event(dm("and hello from home"))  # the home workspace is answered meanwhile
    await fake_slack.wait_for(lambda: any("and hello from home" in m.body for m in fake_slack.messages))
    await settle()
    assert not model_saw(fake_openai, "hello from elsewhere")
    assert fake_slack.thread(CUSTOMER_DM, root) == [] and cards(fake_slack) == []


async def test_a_button_from_another_workspace_does_nothing(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    _, card = await escalated_dm(slack, fake_slack)
    value = f"{CUSTOMER_DM}:{card.ts}"
    payload = button_press(
        "sarah_claim", value, user=AGENT, channel=SUPPORT_CHANNEL, message=fake_slack.as_payload(card)
    )
    payload["team"] = {"id": "TOTHER", "domain": "elsewhere"}
    assert await slack.press(payload) == 200
    await settle()
    assert "Waiting for an agent" in card.body and ephemerals(fake_slack) == []


async def test_on_enterprise_grid_the_orgs_other_workspaces_are_served(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah(slack={"slack_enterprise_id": "EZEN"})
    root = new_ts()
    await slack.payload(foreign(dm("hi from the sister workspace", ts=root), team="TSISTER", org="EZEN"))
    await said(fake_slack, CUSTOMER_DM, root, "Answering: hi from the sister workspace")
    other = new_ts()
    await slack.payload(foreign(dm("hi from another org", ts=other), team="TFOREIGN", org="EOTHER"))
    await settle()
    assert fake_slack.thread(CUSTOMER_DM, other) == []


async def test_a_team_id_setting_that_is_not_the_tokens_workspace_stops_sarah_naming_it(
    redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    sarah = Sarah(sarah_settings(fake_slack, fake_openai, slack={"slack_team_id": "TWRONG"}), REDIS_TEST_URL)
    try:
        with pytest.raises(SlackStartError, match="SLACK_TEAM_ID"):
            await sarah.start()
    finally:
        await sarah.stop()


# -- Slack Connect outsiders are customers, never support -----------------------------------------------


async def test_an_outsider_in_the_support_channel_cannot_claim_a_card(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT, OUTSIDER]
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    value = f"{CUSTOMER_DM}:{root}"
    payload = button_press(
        "sarah_claim", value, user=OUTSIDER, channel=SUPPORT_CHANNEL, message=fake_slack.as_payload(card)
    )
    payload["user"]["team_id"] = "TEXTERNAL"
    assert await slack.press(payload) == 200
    refusal = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "Only the support team"))
    assert refusal[0]["user"] == OUTSIDER
    assert await redis.hget(state_key(CUSTOMER_DM, root), "owner") == b"waiting" and "Waiting for an agent" in card.body


async def test_an_outsider_writing_in_a_shared_thread_is_answered_not_taken_for_an_agent(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT, OUTSIDER]
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(mention("my ZenHub is offline", ts=root, channel="CSHARED"))
    await said(fake_slack, "CSHARED", root, "Answering")
    line = channel_message(
        "I can fix that for you", thread_ts=root, channel="CSHARED", user=OUTSIDER, user_team="TEXTERNAL"
    )
    payload = envelope(line)
    payload["is_ext_shared_channel"] = True
    assert await slack.payload(payload) == 200
    await said(fake_slack, "CSHARED", root, "I can fix that for you")  # Sarah answered it, as a customer's line
    assert not any("has joined" in b for b in in_thread(fake_slack, "CSHARED", root))
    assert await redis.hget(state_key("CSHARED", root), "owner") == b"bot"


# -- replays do nothing twice ----------------------------------------------------------------------------


async def test_a_replayed_command_acts_once(start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenCam is blurry", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    command = slash_command("reset")
    first = await slack.command(command)
    again = await slack.command(command)  # the same signed body, within the 5-minute window
    assert "Fresh start" in first[1] and again == (200, "")
    turns = await redis.lrange(state_key(CUSTOMER_DM, root, "turns"), 0, -1)
    assert sum(b"reset the conversation" in t for t in turns) == 1


async def test_a_replayed_button_press_acts_once(start_sarah: StartSarah, fake_slack: FakeSlack) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    value = f"{CUSTOMER_DM}:{root}"
    payload = button_press(
        "sarah_claim", value, user=AGENT, channel=SUPPORT_CHANNEL, message=fake_slack.as_payload(card)
    )
    assert await slack.press(payload) == 200
    await said(fake_slack, CUSTOMER_DM, root, "has joined")
    assert await slack.press(payload) == 200  # replayed
    await settle()
    assert ephemerals(fake_slack) == []  # not even "someone has already claimed this"
    assert len([b for b in in_thread(fake_slack, CUSTOMER_DM, root) if "has joined" in b]) == 1


# -- floods past each limit --------------------------------------------------------------------------------


async def test_too_many_messages_a_minute_are_not_answered_and_the_sender_is_told_once(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    await start_of_a_minute()
    _, slack = await start_sarah(limits={"user_messages_per_minute": 3})
    root = new_ts()
    await slack.event(dm("line one", ts=root))
    for n in ("two", "three", "four", "five", "six"):
        assert await slack.event(dm(f"line {n}", thread_ts=root)) == 200
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "faster than I can read"))
    await said(fake_slack, CUSTOMER_DM, root, "line three")
    await settle()
    assert len(ephemerals(fake_slack, "faster than I can read")) == 1 and told[0]["user"] == "UCUSTOMER"
    assert not any(model_saw(fake_openai, f"line {n}") for n in ("four", "five", "six"))


async def test_a_conversation_past_the_open_threads_limit_is_refused_with_a_reason(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(limits={"user_max_open_threads": 2})
    roots = [new_ts() for _ in range(3)]
    for n, root in enumerate(roots):  # assistant threads: each one a conversation
        await slack.event(dm(f"question {n}", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, roots[0], "Answering")
    await said(fake_slack, CUSTOMER_DM, roots[1], "Answering")
    refusal = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "2 conversations open"))
    assert refusal[0]["thread_ts"] == roots[2]
    await settle()
    assert fake_slack.thread(CUSTOMER_DM, roots[2]) == [] and not model_saw(fake_openai, "question 2")
    await slack.event(dm("and a follow-up", thread_ts=roots[0]))  # an open conversation still works
    await said(fake_slack, CUSTOMER_DM, roots[0], "and a follow-up")


async def test_a_second_request_for_a_person_joins_the_open_card(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    _, card = await escalated_dm(slack, fake_slack)
    for n in range(2):
        root = new_ts()
        await slack.event(dm(f"human please, it's urgent {n}", thread_ts=root))  # another conversation
        await said(fake_slack, CUSTOMER_DM, root, "already with our support team")
        await said(fake_slack, SUPPORT_CHANNEL, card.ts, f"it's urgent {n}")
        assert await redis.hget(state_key(CUSTOMER_DM, root), "owner") == b"bot"
    assert len(cards(fake_slack)) == 1


async def test_after_a_hand_off_ends_the_customer_can_ask_for_a_person_again(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    _, slack = await start_sarah()
    _, card = await escalated_dm(slack, fake_slack)
    await press(slack, fake_slack, "sarah_resolve", card)
    await fake_slack.wait_for(lambda: "Resolved by" in card.body)
    await slack.event(dm("I want to talk to a real person again"))
    await fake_slack.wait_for(lambda: len(cards(fake_slack)) == 2)


async def test_an_unclaimed_card_is_announced_again_at_most_the_set_number_of_times(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah(handoff={"handoff_reminder_minutes": 0.005, "handoff_max_reminders": 2})  # 0.3 s
    _, card = await escalated_dm(slack, fake_slack)
    reminders = lambda: [m for m in fake_slack.thread(SUPPORT_CHANNEL, card.ts) if "Still waiting" in m.body]  # noqa: E731
    await fake_slack.wait_for(lambda: len(reminders()) == 2)
    await asyncio.sleep(1.5)  # five more intervals
    assert len(reminders()) == 2


# -- forget --------------------------------------------------------------------------------------------------


async def test_sarah_forget_deletes_the_callers_conversations_and_only_theirs(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root, card = await escalated_dm(slack, fake_slack)
    other = new_ts()
    await slack.event(dm("how do I pair a ZenSense?", thread_ts=other))  # a second conversation
    await said(fake_slack, CUSTOMER_DM, other, "Answering")
    theirs = new_ts()
    await slack.event(dm("someone else's question", ts=theirs, user=BYSTANDER, channel="D0BYSTANDER"))
    await said(fake_slack, "D0BYSTANDER", theirs, "Answering")

    forget = slash_command("forget")
    status, _ = await slack.command(forget)
    assert status == 200 and "deleted 2 conversations" in await fake_slack.answer_to(forget)
    for ts in (root, other):
        assert not await redis.exists(state_key(CUSTOMER_DM, ts), state_key(CUSTOMER_DM, ts, "turns"))
    assert not await redis.exists(state_key(SUPPORT_CHANNEL, card.ts))  # the card's relay state
    assert not await redis.exists(
        "sarah:{user:UCUSTOMER}:threads", "sarah:{user:UCUSTOMER}:handoff", "sarah:{user:UCUSTOMER}:dm"
    )
    assert await redis.exists(state_key("D0BYSTANDER", theirs, "turns"))
    again = slash_command("forget")
    await slack.command(again)
    assert "no conversations of yours to delete" in await fake_slack.answer_to(again)


async def test_an_admin_forgets_a_user_from_the_command_line(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my ZenTherm shows E5", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    assert await asyncio.to_thread(sarah_cli, ["forget", "--user", "UCUSTOMER"]) == 0
    assert "UCUSTOMER: deleted 1 conversation(s)" in capsys.readouterr().out
    assert not await redis.exists(state_key(CUSTOMER_DM, root), state_key(CUSTOMER_DM, root, "turns"))
    assert await asyncio.to_thread(sarah_cli, ["forget", "--user", "not-a-user"]) == 2
    assert "--user must be a Slack user id" in capsys.readouterr().err


async def test_after_forget_a_new_message_starts_a_conversation_with_no_memory(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm("my door code is 4711", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering")
    await committed(redis, CUSTOMER_DM, root)
    forget = slash_command("forget")
    await slack.command(forget)
    await fake_slack.answer_to(forget)  # deleted by then
    await slack.event(dm("what did I tell you?", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "Answering: what did I tell you?")
    assert "4711" not in str(fake_openai.requests[-1]["messages"])


# -- a full Redis -------------------------------------------------------------------------------------------


async def test_when_redis_is_full_the_sender_is_told_and_nothing_is_evicted(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, tmp_path: Any
) -> None:
    with start_embedded_redis(tmp_path / "full") as server:  # its own redis-server: we change its maxmemory
        sarah = Sarah(sarah_settings(fake_slack, fake_openai, redis={"redis_url": server.url}), server.url)
        admin = Redis.from_url(server.url)
        sender = None
        try:
            await sarah.start()
            sender = SlackSender(f"http://127.0.0.1:{sarah.http_port}/slack/events")
            kept = new_ts()
            await sender.event(dm("remember my ZenHub", ts=kept))
            await said(fake_slack, CUSTOMER_DM, kept, "Answering")
            used = int((await admin.info("memory"))["used_memory"])
            await admin.config_set("maxmemory-policy", "noeviction")
            await admin.config_set("maxmemory", used // 2)  # full: every write is refused from now on

            lost = new_ts()
            assert await sender.event(dm("are you there?", ts=lost)) == 200
            sorry = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "my memory is full"))
            assert sorry[0]["user"] == "UCUSTOMER"
            assert await admin.exists(state_key(CUSTOMER_DM, kept, "turns"))  # nothing was evicted

            await admin.config_set("maxmemory", 0)  # room again: Sarah answers as before
            await sender.event(dm("are you there now?", thread_ts=kept))
            await said(fake_slack, CUSTOMER_DM, kept, "are you there now?")
        finally:
            if sender is not None:
                await sender.close()
            await sarah.stop()
            await admin.aclose()
