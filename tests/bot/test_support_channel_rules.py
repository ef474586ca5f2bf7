"""The support channel: never public unless an admin accepts that everyone can read the cards, and
no way around the per-person limits for anyone who is not on the support team."""

from __future__ import annotations

import io

import pytest
from redis.asyncio import Redis

from bot.cli.doctor import run_doctor
from bot.runtime import Sarah, SlackStartError
from sarah_testing.handoff_steps import AGENT, said
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_checks import ephemerals, model_saw, settle, start_of_a_minute
from sarah_testing.slack_payloads import mention, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah, sarah_settings

GROUP = {"support_usergroup": "S0SUPPORT"}


async def test_a_public_support_channel_is_refused_even_with_a_user_group(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_slack.channel_info[SUPPORT_CHANNEL] = {"is_private": False}
    sarah = Sarah(sarah_settings(fake_slack, fake_openai, handoff=GROUP), REDIS_TEST_URL)
    with pytest.raises(SlackStartError) as refused:
        await sarah.start()
    why = str(refused.value)
    assert f"SUPPORT_CHANNEL {SUPPORT_CHANNEL} is public" in why and "read every hand-off card" in why
    assert "SUPPORT_CHANNEL_ALLOW_PUBLIC=true" in why


async def test_an_admin_may_accept_a_public_support_channel_when_a_user_group_names_the_team(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.channel_info[SUPPORT_CHANNEL] = {"is_private": False}
    settings = sarah_settings(fake_slack, fake_openai, handoff={**GROUP, "support_channel_allow_public": True})
    sarah = Sarah(settings, REDIS_TEST_URL)
    await sarah.start()
    await sarah.stop()
    assert "SUPPORT_CHANNEL_ALLOW_PUBLIC" in caplog.text  # said plainly at every start


async def test_accepting_a_public_channel_never_lets_its_members_speak_as_support(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_slack.channel_info[SUPPORT_CHANNEL] = {"is_private": False}
    settings = sarah_settings(fake_slack, fake_openai, handoff={"support_channel_allow_public": True})
    with pytest.raises(SlackStartError, match="SUPPORT_USERGROUP"):
        await Sarah(settings, REDIS_TEST_URL).start()


async def test_the_doctor_says_a_public_support_channel_is_refused_with_a_user_group_too(
    fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    fake_slack.channel_info[SUPPORT_CHANNEL] = {"is_private": False}
    out = io.StringIO()
    assert await run_doctor(sarah_settings(fake_slack, fake_openai, handoff=GROUP), REDIS_TEST_URL, out) == 1
    assert "is public" in out.getvalue() and "Sarah refuses to start like this" in out.getvalue()


async def test_mentions_in_the_support_channel_count_against_a_non_member_like_anywhere_else(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.usergroups["S0SUPPORT"] = [AGENT]
    fake_slack.channel_members[SUPPORT_CHANNEL] = ["USARAH", AGENT, "UVISITOR"]
    await start_of_a_minute()
    _, slack = await start_sarah(handoff=GROUP, limits={"user_messages_per_minute": 3})
    roots = [new_ts() for _ in range(6)]
    for n, root in enumerate(roots):
        assert await slack.event(mention(f"visitor question {n}", user="UVISITOR", channel=SUPPORT_CHANNEL, ts=root))
    for root in roots[:3]:
        await said(fake_slack, SUPPORT_CHANNEL, root, "Answering")
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "faster than I can read"))
    assert told[0]["user"] == "UVISITOR"
    await settle()
    assert not any(model_saw(fake_openai, f"visitor question {n}") for n in (3, 4, 5))


async def test_the_support_team_is_not_limited_in_its_own_channel(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_slack.usergroups["S0SUPPORT"] = [AGENT]
    fake_slack.channel_members[SUPPORT_CHANNEL] = ["USARAH", AGENT]
    await start_of_a_minute()
    _, slack = await start_sarah(handoff=GROUP, limits={"user_messages_per_minute": 3})
    roots = [new_ts() for _ in range(5)]
    for n, root in enumerate(roots):
        await slack.event(mention(f"agent question {n}", user=AGENT, channel=SUPPORT_CHANNEL, ts=root))
    for root in roots:
        await said(fake_slack, SUPPORT_CHANNEL, root, "Answering")
    assert ephemerals(fake_slack, "faster than I can read") == []
