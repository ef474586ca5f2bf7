"""The weekly digest: last week's numbers in the support channel, once, whatever the number of workers."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.digest import WeeklyDigest
from config.support_hours import parse_days
from handlers.business_hours import BusinessHours
from handlers.service_levels import Targets
from handlers.store.once import OnceMarkers
from handlers.store.open_handoffs import OpenHandoffs
from handlers.store.service_stats import ClosedHandoff, ServiceStats
from handlers.store.thread_store import ThreadStore
from sarah_testing.slack_api import FakeSlack
from tests.conftest import SUPPORT_CHANNEL

BERLIN = ZoneInfo("Europe/Berlin")
TARGETS = Targets(BusinessHours(9 * 60, 17 * 60, parse_days("mon-fri"), BERLIN), 3600, 8 * 3600)
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN).timestamp()


def digest(redis: Redis, fake_slack: FakeSlack, now: list[float]) -> WeeklyDigest:
    client = AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.api_url)
    stats = ServiceStats(redis, clock=lambda: now[0])
    queue = OpenHandoffs(redis, ThreadStore(redis, ttl_seconds=86_400, max_turns=50, lease_seconds=15))
    return WeeklyDigest(
        OnceMarkers(redis),
        client,
        queue=queue,
        channel=SUPPORT_CHANNEL,
        schedule=(0, 9 * 60),
        targets=TARGETS,
        stats=stats,
        clock=lambda: now[0],
    )


async def test_several_workers_post_the_digest_once_at_its_time(redis: Redis, fake_slack: FakeSlack) -> None:
    now = [MONDAY_9 - 60]
    stats = ServiceStats(redis, clock=lambda: MONDAY_9 - 2 * 86_400)
    for _ in range(4):
        await stats.conversation_started()
    await stats.flush()
    await stats.handed_off("customer_asked")
    await stats.conversation_unsolved()
    await stats.closed(
        ClosedHandoff("customer_asked", MONDAY_9 - 3 * 86_400, MONDAY_9 - 2 * 86_400, "resolved", 600, 5400)
    )
    await stats.rated(5)
    workers = [digest(redis, fake_slack, now) for _ in range(3)]

    assert not any(await asyncio.gather(*(w.post_if_due() for w in workers)))  # a minute early
    now[0] = MONDAY_9 + 5
    posted = await asyncio.gather(*(w.post_if_due() for w in workers))
    assert posted.count(True) == 1
    assert not any(await asyncio.gather(*(w.post_if_due() for w in workers)))  # and not again that week

    messages = [m for m in fake_slack.messages if m.channel == SUPPORT_CHANNEL]
    assert len(messages) == 1
    text = messages[0].body
    assert "*Weekly support digest*" in text
    assert "Conversations: 4; solved by Sarah without a person: 3 (75%)" in text
    assert "1 × the customer asked for a person" in text
    assert "First response (target 1 h, business hours): median 10 min" in text
    assert "Ratings: 1, average 5.0/5" in text


async def test_a_digest_missed_by_more_than_a_day_waits_for_the_next_week(redis: Redis, fake_slack: FakeSlack) -> None:
    now = [MONDAY_9 + 2 * 86_400]
    assert not await digest(redis, fake_slack, now).post_if_due()
    assert not [m for m in fake_slack.messages if m.channel == SUPPORT_CHANNEL]


async def test_conversations_counted_in_memory_reach_redis_with_the_next_flush_and_a_failed_flush_keeps_them(
    redis: Redis,
) -> None:
    stats = ServiceStats(redis, clock=lambda: MONDAY_9)
    for _ in range(3):
        await stats.conversation_started()
    assert (await stats.period(MONDAY_9 - 60, MONDAY_9 + 60)).conversations == 0  # no round trip per conversation
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    broken = ServiceStats(unreachable, clock=lambda: MONDAY_9)
    await broken.conversation_started()
    with pytest.raises(RedisError):
        await broken.flush()
    assert broken.unwritten == 1  # kept for the next beat
    await unreachable.aclose()
    await stats.flush()
    await stats.flush()  # nothing new: nothing written twice
    assert (await stats.period(MONDAY_9 - 60, MONDAY_9 + 60)).conversations == 3


def test_a_customers_words_are_filed_under_the_knowledge_base_section_they_are_about() -> None:
    from sarah_model.knowledge import load_knowledge_base
    from sarah_model.sections import NOT_IN_KB, SectionFinder

    finder = SectionFinder(load_knowledge_base())
    topic = finder.topic("my ZenHub shows offline in the app, how do I get it back online")
    assert topic.startswith("hub/") and finder.title(topic).startswith("Hub")
    assert finder.topic("what is the capital of France") == NOT_IN_KB
