"""Operations endpoints: /metrics stays off the port Slack reaches unless an admin asks for it, a
scrape costs the same Redis work however many hand-offs are open, and feedback counts only the
presses Sarah accepts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.runtime import Sarah
from handlers.messages import ThreadRef
from handlers.store.ownership import Owner
from sarah_testing.handoff_steps import press
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.probes import get, scrape, value
from sarah_testing.redis_process import RedisServer
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import mention, new_ts
from tests.conftest import StartSarah, sarah_settings


async def test_metrics_are_not_served_on_the_slack_port_by_default(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah()
    status, _ = await get(sarah.http_port, "/metrics")
    assert status == 404
    status, _ = await get(sarah.http_port, "/healthz")  # load balancers still probe the Slack port
    assert status == 200


async def test_metrics_answer_on_a_health_port_of_their_own(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah(slack={"sarah_health_port": 0})  # 0: a free port of its own
    assert sarah.health_port and sarah.health_port != sarah.http_port
    status, text = await get(sarah.health_port, "/metrics")
    assert status == 200 and "sarah_open_handoffs" in text
    status, _ = await get(sarah.http_port, "/metrics")
    assert status == 404


async def test_an_admin_can_put_metrics_on_the_slack_port_explicitly(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah(slack={"sarah_metrics_on_slack_port": True})
    status, text = await get(sarah.http_port, "/metrics")
    assert status == 200 and "sarah_open_handoffs" in text


# -- the cost of a scrape ---------------------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the test's own: its command statistics count Sarah's commands and nobody else's."""
    with RedisServer() as server:
        yield server


async def commands_of_one_scrape(sarah: Sarah, redis: Redis) -> tuple[int, dict[str, float]]:
    """Redis commands one /metrics scrape sent (the statistics' own INFO and health-check PINGs aside)."""

    async def calls() -> dict[str, int]:
        stats: dict[str, Any] = await redis.info("commandstats")
        return {k: v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_ping")}

    before = await calls()
    for _ in range(100):  # App Home follows each change of hands in the background: let it finish
        await asyncio.sleep(0.1)
        before, settled = await calls(), before
        if before == settled:
            break
    samples = await scrape(sarah)
    after = await calls()
    return sum(after.values()) - sum(before.values()), {
        name: value(samples, name)
        for name in ("sarah_open_handoffs", "sarah_unclaimed_cards", "sarah_oldest_unclaimed_seconds")
    }


async def hand_off(sarah: Sarah, threads: list[ThreadRef], at: float) -> None:
    for thread in threads:
        moved = await sarah.parts.ownership.transition(
            thread, allowed=(Owner.BOT,), to=Owner.WAITING, by="UCUSTOMER", now=at, handoff_reason="customer_asked"
        )
        assert moved.changed


async def test_a_scrape_costs_the_same_redis_work_with_three_or_forty_open_hand_offs(
    own_redis: RedisServer, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    url = own_redis.url
    settings = sarah_settings(
        fake_slack,
        fake_openai,
        redis={"redis_url": url},
        slack={"sarah_health_port": 0},
        worker={"sarah_role": "ingress"},  # no worker loop sending commands of its own meanwhile
    )
    sarah = Sarah(settings, url)
    await sarah.start()
    redis = Redis.from_url(url)
    try:
        now = time.time()
        threads = [ThreadRef(f"C0SHOP{n:03d}", f"{now:.0f}.{n:06d}") for n in range(40)]
        await hand_off(sarah, threads[:3], now - 120)
        few, gauges = await commands_of_one_scrape(sarah, redis)
        assert gauges["sarah_open_handoffs"] == 3 and gauges["sarah_unclaimed_cards"] == 3
        assert gauges["sarah_oldest_unclaimed_seconds"] >= 120

        await hand_off(sarah, threads[3:], now)
        for thread in threads[:5]:  # two of the first three, and more, claimed by an agent
            await sarah.parts.ownership.transition(
                thread, allowed=(Owner.WAITING,), to=Owner.HUMAN, by="UAGENT", now=now
            )
        for thread in threads[5:8]:  # resolved without a claim
            await sarah.parts.ownership.transition(
                thread, allowed=(Owner.WAITING,), to=Owner.RESOLVED, by="UAGENT", now=now
            )
        many, gauges = await commands_of_one_scrape(sarah, redis)
        assert gauges["sarah_open_handoffs"] == 37 and gauges["sarah_unclaimed_cards"] == 32
        assert gauges["sarah_oldest_unclaimed_seconds"] < 60  # the old ones were claimed
        assert many == few, f"a scrape cost {few} Redis commands with 3 open hand-offs and {many} with 40"
    finally:
        await redis.aclose()
        await sarah.stop()


# -- feedback ---------------------------------------------------------------------------------------------


async def test_a_bystanders_feedback_press_is_refused_and_not_counted(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    sarah, slack = await start_sarah(slack={"sarah_health_port": 0})
    root = new_ts()
    await slack.event(mention("how do I add a ZenSense?", ts=root))
    answer = (
        await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("C0GENERAL", root) if "Answering" in m.body])
    )[0]
    for _ in range(3):
        await press(slack, fake_slack, "sarah_not_helped", answer, user="UBYSTANDER", channel="C0GENERAL")
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.postEphemeral")) == 3)
    assert value(await scrape(sarah), "sarah_feedback_total", verdict="not_helped") == 0

    await press(slack, fake_slack, "sarah_helped", answer, user="UCUSTOMER", channel="C0GENERAL")
    samples = await scrape(sarah)
    assert value(samples, "sarah_feedback_total", verdict="helped") == 1
    assert value(samples, "sarah_feedback_total", verdict="not_helped") == 0
