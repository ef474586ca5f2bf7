"""/healthz fails when Sarah cannot work, whatever the reason: a stuck read loop (with the default
intervals), a pass that runs past its model deadline, a Slack token that is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from bot.ops.liveness import Liveness
from bot.worker import Worker
from config.settings import WorkerSettings
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import StartSarah


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def default_worker(clock: Clock, **kwargs: Any) -> Worker:
    """A worker with the default WORKER_* settings; its parts are never used here."""
    s = WorkerSettings()
    return Worker(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        concurrency=s.worker_concurrency,
        read_batch=s.worker_read_batch,
        lease_seconds=s.thread_lease_seconds,
        reclaim_idle_seconds=s.reclaim_idle_seconds,
        coalesce_seconds=s.coalesce_seconds,
        dead_letter_after_passes=s.dead_letter_after_passes,
        consumer_idle_remove_seconds=s.consumer_idle_remove_seconds,
        stale_seconds=s.worker_stale_seconds,
        clock=clock,
        **kwargs,
    )


def test_a_stuck_read_loop_fails_the_health_check_with_the_default_intervals() -> None:
    clock = Clock()
    liveness: Liveness = default_worker(clock).liveness
    for _ in range(8):  # two minutes in which the reclaim loop goes on and the read loop never returns
        clock.now += 15
        liveness.beat("reclaim")
    healthy, details = liveness.report()
    assert not healthy and details["stale"] == ["read"]


def test_a_pass_past_its_model_deadline_fails_the_health_check() -> None:
    clock = Clock()
    liveness = default_worker(clock, pass_seconds=100.0).liveness
    liveness.pass_started("a-thread")
    for _ in range(10):
        clock.now += 10
        liveness.beat("read")
        liveness.beat("reclaim")
        liveness.lease_held("a-thread")  # its lease is renewed: only the pass itself is stuck
    assert liveness.report()[0]  # 100 s: at its deadline, not past it
    clock.now += 5
    liveness.beat("read")
    liveness.beat("reclaim")
    healthy, details = liveness.report()
    assert not healthy and details["stale"] == ["pass"]
    liveness.pass_ended("a-thread")
    assert liveness.report()[0]


async def health_turns_red(port: int | None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                status, body = response.status, await response.json()
            if status == 503:
                break
            await asyncio.sleep(0.1)
    return status, body


async def test_a_refused_slack_token_fails_the_health_check(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    sarah, slack = await start_sarah()
    fake_slack.token_revoked = True  # the app was uninstalled: every call answers token_revoked
    await slack.event(dm("my hub is offline", ts=new_ts()))
    status, body = await health_turns_red(sarah.http_port)
    assert status == 503 and "slack_token_refused" in str(body)


async def test_a_worker_whose_redis_refuses_writes_fails_the_health_check(
    start_sarah: StartSarah, monkeypatch: pytest.MonkeyPatch
) -> None:
    sarah, slack = await start_sarah()

    async def full(*args: Any, **kwargs: Any) -> Any:
        raise OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(sarah.parts.pipeline, "answer_pending", full)
    await slack.event(dm("my hub is offline", ts=new_ts()))
    status, body = await health_turns_red(sarah.http_port)
    assert status == 503 and "redis_refuses_writes" in str(body)
