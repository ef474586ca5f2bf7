"""The worker cannot die quietly: it rides out Redis restarts and vanished streams, and a loop that
ends on its own makes the whole process fail (so it is restarted); /healthz says when it is stuck."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.cli.main import _serve
from bot.runtime import Sarah, SarahFailed
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.inbox import GROUP, STREAM
from sarah_testing.openai_chat import Delay, FakeOpenAI, echo_responder, user_lines
from sarah_testing.redis_process import RedisServer
from sarah_testing.server import eventually, eventually_async
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import SlackSender, dm, new_ts
from tests.conftest import REDIS_TEST_URL, StartSarah, sarah_settings


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own that keeps its data across a restart (append-only file)."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
async def start_on_own_redis(
    own_redis: RedisServer, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> AsyncIterator[StartSarah]:
    running: list[tuple[Sarah, SlackSender]] = []

    async def start(**groups: dict[str, Any]) -> tuple[Sarah, SlackSender]:
        url = own_redis.url
        sarah = Sarah(sarah_settings(fake_slack, fake_openai, redis={"redis_url": url}, **groups), url)
        await sarah.start()
        sender = SlackSender(f"http://127.0.0.1:{sarah.http_port}/slack/events")
        running.append((sarah, sender))
        return sarah, sender

    yield start
    for sarah, sender in running:
        await sender.close()
        await sarah.stop()


async def deliver_like_slack(slack: SlackSender, event: dict[str, Any]) -> list[int]:
    """Send an event, and send it again (as Slack's retries do) until Sarah answers 200."""
    statuses: list[int] = []
    event_id = f"Ev{event['ts'].replace('.', '')}"
    while not statuses or statuses[-1] != 200:
        if len(statuses) > 40:
            raise AssertionError(f"Sarah never acknowledged the event: {statuses}")
        if statuses:
            await asyncio.sleep(0.3)
        statuses.append(await slack.event(event, event_id=event_id, retry_num=len(statuses) or None))
    return statuses


async def healthz(sarah: Sarah) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{sarah.http_port}/healthz") as response,
    ):
        return response.status, await response.json()


def answers(fake_slack: FakeSlack, ts: str) -> list[str]:
    # Each message here is its own conversation (an assistant thread: `dm(…, thread_ts=…)`): top-level
    # DMs of one customer would be one conversation, answered together.
    return [m.body for m in fake_slack.thread("D0CUSTOMER", ts) if "typing" not in m.body]


async def test_a_redis_restart_loses_and_doubles_nothing(
    start_on_own_redis: StartSarah,
    own_redis: RedisServer,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.ops.outage")
    fake_openai.responder = lambda request: (
        Delay(1.5, echo_responder(request)) if "slow" in user_lines(request)[-1] else echo_responder(request)
    )
    # A reclaim cannot be what saves the messages below: it would come only after 5 minutes.
    sarah, slack = await start_on_own_redis(worker={"reclaim_idle_seconds": 300, "thread_lease_seconds": 30})
    assert sarah.parts.worker is not None

    before = new_ts()
    await deliver_like_slack(slack, dm("before the restart", thread_ts=before))
    await fake_slack.wait_for(lambda: answers(fake_slack, before))

    # An entry delivered to this worker whose XREADGROUP reply was lost with the connection.
    stranded = new_ts()
    message = InboundMessage(ThreadRef("D0CUSTOMER", stranded), stranded, "UCUSTOMER", "stranded", Kind.DM)
    other = Redis.from_url(own_redis.url)
    async with other.pipeline(transaction=True) as pipe:
        pipe.xadd(STREAM, {"m": message.to_json()})
        pipe.xreadgroup(GROUP, sarah.parts.worker.consumer, {STREAM: ">"}, count=1)
        await pipe.execute()
    await other.aclose()

    in_flight = new_ts()
    await deliver_like_slack(slack, dm("a slow question", thread_ts=in_flight))
    await eventually(lambda: any("slow" in user_lines(r)[-1] for r in fake_openai.requests))

    await own_redis.astop()  # the model answers while Redis is away
    during = new_ts()
    sent_during = asyncio.create_task(deliver_like_slack(slack, dm("sent during the outage", thread_ts=during)))
    await asyncio.sleep(2.5)
    status, body = await healthz(sarah)
    assert status == 503 and body["redis"] != "ok"
    await own_redis.astart()

    statuses = await sent_during
    assert statuses[0] == 500 and statuses[-1] == 200  # refused while Redis was away, so Slack retried
    after = new_ts()
    assert await slack.event(dm("sent after the outage", thread_ts=after)) == 200  # first try: no stale connection

    expected = {
        before: "Answering: before the restart",
        stranded: "Answering: stranded",
        in_flight: "Answering: a slow question",
        during: "Answering: sent during the outage",
        after: "Answering: sent after the outage",
    }
    await fake_slack.wait_for(lambda: all(answers(fake_slack, ts) for ts in expected), within=20)
    await asyncio.sleep(1.0)  # a doubled answer, were there one, would be posted by now
    assert {ts: answers(fake_slack, ts) for ts in expected} == {ts: [text] for ts, text in expected.items()}
    assert (await healthz(sarah))[0] == 200
    assert not any(task.done() for task in sarah.parts.worker.loops.values())
    outage_lines = [r.getMessage() for r in caplog.records if r.name == "bot.ops.outage"]
    assert sum("Redis unavailable" in line and "worker" in line for line in outage_lines) == 1
    assert sum("Redis is back" in line and "worker" in line for line in outage_lines) == 1


async def test_a_redis_crash_under_load_strands_no_message(
    start_on_own_redis: StartSarah, own_redis: RedisServer, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda request: Delay(0.2, echo_responder(request))
    _, slack = await start_on_own_redis(
        worker={"reclaim_idle_seconds": 300, "thread_lease_seconds": 30},
        limits={"user_max_open_threads": 100, "user_messages_per_minute": 100},  # one customer, 40 DMs
    )
    roots = [new_ts() for _ in range(40)]

    async def customer(index: int) -> None:
        await asyncio.sleep(index * 0.05)
        await deliver_like_slack(slack, dm(f"question {index}", thread_ts=roots[index]))

    customers = asyncio.gather(*(customer(i) for i in range(len(roots))))
    await asyncio.sleep(1.0)  # about half are queued or being answered
    await own_redis.astop(kill=True)  # a crash: nothing but the append-only file survives
    await asyncio.sleep(2.0)
    await own_redis.astart()
    await customers

    await fake_slack.wait_for(lambda: all(answers(fake_slack, ts) for ts in roots), within=30)
    await asyncio.sleep(1.0)
    assert [answers(fake_slack, ts) for ts in roots] == [[f"Answering: question {i}"] for i in range(len(roots))]


async def test_the_first_event_after_a_quick_redis_restart_is_acknowledged_at_once(
    start_on_own_redis: StartSarah, own_redis: RedisServer, fake_slack: FakeSlack
) -> None:
    _, slack = await start_on_own_redis()
    first, second = new_ts(), new_ts()
    assert await slack.event(dm("before", thread_ts=first)) == 200
    await fake_slack.wait_for(lambda: answers(fake_slack, first))
    await own_redis.astop()
    await own_redis.astart()  # every pooled connection is stale now
    assert await slack.event(dm("right after the restart", thread_ts=second)) == 200
    await fake_slack.wait_for(lambda: answers(fake_slack, second))
    assert answers(fake_slack, second) == ["Answering: right after the restart"]


async def test_a_deleted_stream_or_a_flushdb_does_not_stop_the_worker(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack
) -> None:
    sarah, slack = await start_sarah()
    assert sarah.parts.worker is not None
    first, second, third = new_ts(), new_ts(), new_ts()
    await slack.event(dm("first", thread_ts=first))
    await fake_slack.wait_for(lambda: answers(fake_slack, first))

    await redis.delete(STREAM)  # the worker's blocked XREADGROUP answers "UNBLOCKED … no longer exists"
    await asyncio.sleep(0.6)
    assert await slack.event(dm("second", thread_ts=second)) == 200
    await fake_slack.wait_for(lambda: answers(fake_slack, second))

    await redis.flushdb()  # the stream, the group and every thread are gone: NOGROUP
    await asyncio.sleep(0.6)
    assert await slack.event(dm("third", thread_ts=third)) == 200
    await fake_slack.wait_for(lambda: answers(fake_slack, third))

    assert answers(fake_slack, second) == ["Answering: second"]
    assert answers(fake_slack, third) == ["Answering: third"]
    assert not any(task.done() for task in sarah.parts.worker.loops.values())


async def test_a_reclaim_loop_that_ends_makes_sarah_fail(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah()
    worker = sarah.parts.worker
    assert worker is not None
    reclaimer = await eventually(lambda: worker.loops.get("reclaim"))
    reclaimer.cancel()
    with pytest.raises(SarahFailed, match="reclaim loop was cancelled"):
        await asyncio.wait_for(sarah.wait(), 10)


async def test_a_read_loop_that_crashes_makes_sarah_fail(
    start_sarah: StartSarah, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, _ = await start_sarah()

    async def broken_read(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a bug in the read loop")

    monkeypatch.setattr(sarah.parts.inbox, "read", broken_read)
    with pytest.raises(SarahFailed, match="read loop failed with ValueError"):
        await asyncio.wait_for(sarah.wait(), 10)


async def test_the_reminders_loop_is_supervised_too(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah()
    next(t for t in asyncio.all_tasks() if t.get_name() == "reminders").cancel()
    with pytest.raises(SarahFailed, match="reminders loop was cancelled"):
        await asyncio.wait_for(sarah.wait(), 10)


async def test_the_sarah_command_exits_1_when_a_loop_dies(
    redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    serving = asyncio.create_task(_serve(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL))
    reader = await eventually(lambda: next((t for t in asyncio.all_tasks() if t.get_name() == "worker-read"), None))
    reader.cancel()
    assert await asyncio.wait_for(serving, 60) == 1  # a bound for a loaded machine, not a speed goal


async def test_healthz_answers_503_naming_the_stale_part_when_the_worker_stops_reading(
    start_sarah: StartSarah, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, slack = await start_sarah(worker={"worker_stale_seconds": 2})
    status, body = await healthz(sarah)
    assert status == 200 and body["worker"]["stale"] == []

    stuck = asyncio.Event()

    async def read_that_hangs(*args: Any, **kwargs: Any) -> list[Any]:
        await stuck.wait()
        return []

    real_read = sarah.parts.inbox.read
    monkeypatch.setattr(sarah.parts.inbox, "read", read_that_hangs)
    status, body = await eventually_async(lambda: _unhealthy(sarah), within=10)
    assert body["redis"] == "ok"
    assert body["worker"]["stale"] == ["read"]
    assert body["worker"]["read"]["age_seconds"] >= body["worker"]["read"]["limit_seconds"] == 2

    monkeypatch.setattr(sarah.parts.inbox, "read", real_read)
    stuck.set()
    await eventually_async(lambda: _healthy(sarah), within=10)
    ts = new_ts()
    await slack.event(dm("are you back?", ts=ts))
    await fake_slack.wait_for(lambda: answers(fake_slack, ts))


async def _unhealthy(sarah: Sarah) -> tuple[int, dict[str, Any]] | None:
    status, body = await healthz(sarah)
    return (status, body) if status == 503 else None


async def _healthy(sarah: Sarah) -> bool:
    return (await healthz(sarah))[0] == 200
