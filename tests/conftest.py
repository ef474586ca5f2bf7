"""Shared fixtures: the real Redis, the fakes of Slack and OpenAI, and Sarah herself in HTTP mode;
and the helpers that need Sarah's own code (the rest are in sarah_testing/).

The Redis tests fail (never skip) when no Redis answers at REDIS_TEST_URL: `.ci/run` starts one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.runtime import Sarah
from config import load_settings
from config.settings import SETTINGS_GROUPS
from handlers.store.dead_letters import DEAD
from sarah_testing.handoff_steps import SUPPORT_CHANNEL
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.redis_process import REDIS_TEST_URL
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import SIGNING_SECRET, SlackSender


@pytest.fixture(autouse=True)
def clean_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No setting of the machine running the tests leaks into them, and no `.env` is read."""
    for group in SETTINGS_GROUPS.values():
        for name in group.model_fields:
            monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        pytest.fail(f"the Redis tests need a Redis server at {REDIS_TEST_URL}: {error}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    openai = FakeOpenAI()
    await openai.start()
    yield openai
    await openai.close()


def sarah_settings(fake_slack: FakeSlack, fake_openai: FakeOpenAI, **groups: dict[str, Any]) -> Any:
    base: dict[str, dict[str, Any]] = {
        "slack": {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake_slack.api_url,
            "sarah_host": "127.0.0.1",
            "sarah_port": 0,
        },
        "model": {
            "openai_api_key": "sk-test-key",
            "openai_base_url": fake_openai.base_url,
            "sarah_model": "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1",
            "model_timeout_seconds": 5,
            "model_max_retries": 0,
        },
        "redis": {"redis_url": REDIS_TEST_URL},
        "handoff": {"support_channel": SUPPORT_CHANNEL},
        "worker": {"coalesce_seconds": 0.05, "thread_lease_seconds": 5, "reclaim_idle_seconds": 10},
    }
    for name, values in groups.items():
        base[name] = {**base.get(name, {}), **values}
    return load_settings(None, **base)


StartSarah = Callable[..., Awaitable[tuple[Sarah, SlackSender]]]


@pytest.fixture
async def start_sarah(redis: Redis, fake_slack: FakeSlack, fake_openai: FakeOpenAI) -> AsyncIterator[StartSarah]:
    """Start Sarah in HTTP mode against the fakes; returns her and a sender of signed Slack events."""
    running: list[tuple[Sarah, SlackSender]] = []

    async def start(**groups: dict[str, Any]) -> tuple[Sarah, SlackSender]:
        settings = sarah_settings(fake_slack, fake_openai, **groups)
        sarah = Sarah(settings, REDIS_TEST_URL)
        await sarah.start()
        sender = SlackSender(f"http://127.0.0.1:{sarah.http_port or 9}/slack/events", hooks=fake_slack.hooks_url)
        running.append((sarah, sender))
        return sarah, sender

    yield start
    for sarah, sender in running:
        await sender.close()
        await sarah.stop()


def with_and_without_pause(start_sarah: StartSarah, request: pytest.FixtureRequest) -> StartSarah:
    """`start_sarah` with the test's COALESCE_SECONDS, or with none: without a pause the worker
    reads a thread in the round trip that takes its lease (a path of its own)."""

    async def start(**groups: dict[str, Any]) -> tuple[Sarah, SlackSender]:
        worker = {"coalesce_seconds": request.param, **groups.get("worker", {})}
        return await start_sarah(**{**groups, "worker": worker})

    return start


async def dead_count(redis: Redis) -> int:
    """How many messages are in the dead-letter stream (a helper, not a fixture: it reads Sarah's own key)."""
    return int(await redis.xlen(DEAD))
