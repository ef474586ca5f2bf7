"""One person cannot fill Redis within the limits: what Sarah keeps of one person is bounded per
conversation and in all, and whoever reaches a bound is told so and loses nothing else."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from handlers.store.limits import Limits, Verdict
from sarah_testing.handoff_steps import CUSTOMER_DM, cards, said
from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, mention, new_ts, slash_command
from tests.conftest import StartSarah

LONG = "My ZenHub log: " + "x" * 6_900  # about 7 KB, under MAX_MESSAGE_CHARS
TWO_AND_A_HALF = int(2.5 * len(LONG))  # room for two such messages (with what Sarah keeps beside each), not three


def ephemerals(fake_slack: FakeSlack, fragment: str) -> list[dict[str, object]]:
    return [c for c in fake_slack.calls_to("chat.postEphemeral") if fragment in str(c.get("text"))]


def model_read(fake_openai: FakeOpenAI, fragment: str) -> int:
    return sum(1 for r in fake_openai.requests if any(fragment in line for line in user_lines(r)[-1:]))


async def test_a_conversation_past_its_stored_bytes_is_told_so_and_can_still_reach_a_person(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah(limits={"user_max_thread_bytes": TWO_AND_A_HALF})
    root = new_ts()
    await slack.event(dm(LONG + " one", ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "one")
    await slack.event(dm(LONG + " two", thread_ts=root))
    await said(fake_slack, CUSTOMER_DM, root, "two")
    assert await slack.event(dm(LONG + " three", thread_ts=root)) == 200
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "too long for me to keep"))
    assert told[0]["user"] == "UCUSTOMER" and "/sarah human" in str(told[0]["text"])
    await asyncio.sleep(0.3)
    assert model_read(fake_openai, "three") == 0  # not stored, not answered
    turns = await redis.lrange(f"sarah:{{{CUSTOMER_DM}:{root}}}:turns", 0, -1)
    assert len(turns) == 4  # what was kept before stays
    human = slash_command("human")  # a person is still one command away
    status, _ = await slack.command(human)
    assert status == 200 and "handing you to our support team" in await fake_slack.answer_to(human)
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert str(card.blocks).count("My ZenHub log") >= 2  # both kept messages are on the card


async def test_a_person_past_their_stored_bytes_in_all_is_told_so(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah(
        limits={"user_max_thread_bytes": TWO_AND_A_HALF, "user_max_stored_bytes": TWO_AND_A_HALF + len(LONG)}
    )
    first, second, third = new_ts(), new_ts(), new_ts()
    await slack.event(mention(LONG + " one", ts=first))
    await said(fake_slack, "C0GENERAL", first, "one")
    await slack.event(mention(LONG + " two", ts=second))
    await said(fake_slack, "C0GENERAL", second, "two")
    await slack.event(mention(LONG + " three", ts=third))
    await said(fake_slack, "C0GENERAL", third, "three")
    await slack.event(mention(LONG + " four", ts=new_ts()))
    told = await fake_slack.wait_for(lambda: ephemerals(fake_slack, "more than I can keep"))
    assert told[0]["user"] == "UCUSTOMER" and "/sarah forget" in str(told[0]["text"])
    await asyncio.sleep(0.3)
    assert model_read(fake_openai, "four") == 0
    await slack.event(mention("a short one", user="UOTHER", ts=new_ts()))  # others are not affected
    await fake_slack.wait_for(lambda: model_read(fake_openai, "a short one"))


async def test_stored_bytes_of_conversations_past_their_retention_no_longer_count(redis: Redis) -> None:
    limits = Limits(
        redis,
        messages_per_minute=1_000,
        max_open_threads=100,
        index_ttl_seconds=3_600,
        max_thread_bytes=10_000,
        max_stored_bytes=20_000,
    )
    now = 1_800_000_000.0

    async def check(thread: str, at: float, size: int, *, opens: bool = True) -> Verdict:
        return await limits.check_message("U1", thread, opens_thread=opens, now=at, size=size)

    assert await check("C1:1.0", now, 9_000) is Verdict.OK
    assert await check("C1:2.0", now, 9_000) is Verdict.OK
    assert await check("C1:3.0", now + 60, 9_000) is Verdict.STORED_FULL
    later = now + 3_600 + 120  # both conversations expired since
    assert await check("C1:3.0", later, 9_000) is Verdict.OK
    assert await check("C1:3.0", later + 60, 2_000, opens=False) is Verdict.THREAD_FULL
