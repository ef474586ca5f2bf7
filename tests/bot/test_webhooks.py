"""Hand-off events reach another system: signed, retried while the receiver is down, set aside after
too many tries, and never sent when no URL is set."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.ops.webhooks import sign
from config import SettingsError, load_settings
from handlers.store.forget import Forgetter
from handlers.store.keys import WEBHOOK_ATTEMPTS, WEBHOOK_DEAD, WEBHOOK_DUE, WEBHOOK_STREAM
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, escalated_dm, press
from sarah_testing.server import eventually, eventually_async
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message
from tests.conftest import SUPPORT_CHANNEL, StartSarah

SECRET = "whsec-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A ticketing system's endpoint on 127.0.0.1: checks each signature, answers `status`."""

    def __init__(self, port: int, status: int = 200) -> None:
        self.port, self.status = port, status
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers["X-Sarah-Timestamp"]
        fresh = abs(time.time() - int(timestamp)) < 300
        if not fresh or request.headers["X-Sarah-Signature"] != sign(SECRET, timestamp, body):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.status == 200:
            self.events.append(json.loads(body))
        return web.Response(status=self.status)

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        await receiver.stop()


async def _tried(redis: Redis, events: int) -> bool:
    tries = await redis.hgetall(WEBHOOK_ATTEMPTS)
    return len(tries) == events and all(int(n) >= 2 for n in tries.values())


def webhook(port: int, **more: Any) -> dict[str, Any]:
    return {
        "handoff_webhook_url": f"http://127.0.0.1:{port}/hook",
        "handoff_webhook_secret": SECRET,
        "handoff_webhook_allow_http": True,
        "handoff_webhook_retry_seconds": 0.2,
        **more,
    }


async def test_events_wait_while_the_receiver_is_down_and_arrive_signed_once_it_is_up(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, receivers: list[Receiver]
) -> None:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    port = free_port()
    _, slack = await start_sarah(webhook=webhook(port))
    root, card = await escalated_dm(slack, fake_slack)
    await press(slack, fake_slack, "sarah_claim", card)
    await fake_slack.wait_for(lambda: "Claimed by" in card.body)

    # the receiver is down: Sarah keeps the events and counts her tries
    await eventually_async(lambda: _tried(redis, 2))
    assert await redis.xlen(WEBHOOK_STREAM) == 2

    receiver = Receiver(port)
    receivers.append(receiver)
    await receiver.start()
    await eventually(lambda: len(receiver.events) == 2, within=15)
    assert sorted(receiver.names()) == ["handoff.claimed", "handoff.opened"]
    await slack.event(channel_message("Hi, Ana here", thread_ts=card.ts, channel=SUPPORT_CHANNEL, user=AGENT))
    await eventually(lambda: "handoff.first_response" in receiver.names(), within=15)
    await press(slack, fake_slack, "sarah_resolve", card)
    await eventually(lambda: "handoff.resolved" in receiver.names(), within=15)
    question = (await fake_slack.wait_for(lambda: [m for m in fake_slack.messages if "How did our" in m.body]))[0]
    await press(slack, fake_slack, "sarah_rate_5", question, user="UCUSTOMER", channel=CUSTOMER_DM)
    await eventually(lambda: "handoff.rated" in receiver.names(), within=15)
    assert receiver.names()[2:] == ["handoff.first_response", "handoff.resolved", "handoff.rated"]
    assert receiver.events[-1]["rating"] == 5 and receiver.events[-1]["by"] == "UCUSTOMER"

    opened = next(e for e in receiver.events if e["event"] == "handoff.opened")
    claimed = next(e for e in receiver.events if e["event"] == "handoff.claimed")
    assert opened["thread"]["channel"] == CUSTOMER_DM and opened["thread"]["thread_ts"] == root
    assert opened["card"]["ts"] == card.ts and opened["reason"] == "customer_asked"
    assert claimed["by"] == AGENT and opened["customer"] == "UCUSTOMER"
    assert "real person" not in json.dumps(receiver.events) and "Ana here" not in json.dumps(
        receiver.events
    )  # no message text unless a setting allows it
    assert len({e["id"] for e in receiver.events}) == len(receiver.events) and receiver.bad_signatures == 0
    assert await redis.xlen(WEBHOOK_STREAM) == 0 and not await redis.hgetall(WEBHOOK_ATTEMPTS)


async def test_an_event_the_receiver_keeps_refusing_is_set_aside_after_the_last_try(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, receivers: list[Receiver]
) -> None:
    port = free_port()
    receiver = Receiver(port, status=500)
    receivers.append(receiver)
    await receiver.start()
    _, slack = await start_sarah(webhook=webhook(port, handoff_webhook_max_attempts=3))
    await escalated_dm(slack, fake_slack)
    await eventually_async(lambda: redis.xlen(WEBHOOK_DEAD))
    dead = await redis.xrange(WEBHOOK_DEAD)
    assert len(dead) == 1 and dead[0][1][b"attempts"] == b"3" and dead[0][1][b"error"] == b"HTTP 500"
    assert json.loads(dead[0][1][b"body"])["event"] == "handoff.opened"
    assert await redis.xlen(WEBHOOK_STREAM) == 0


async def test_nothing_is_queued_or_sent_when_no_url_is_set(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah()
    await escalated_dm(slack, fake_slack)
    await asyncio.sleep(0.3)
    assert not await redis.exists(WEBHOOK_STREAM)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HANDOFF_WEBHOOK_URL": "http://tickets.example.com/x", "HANDOFF_WEBHOOK_SECRET": "s"}, "must be https://"),
        ({"HANDOFF_WEBHOOK_URL": "https://tickets.example.com/x"}, "HANDOFF_WEBHOOK_SECRET: is required"),
        ({"HANDOFF_WEBHOOK_URL": "tickets.example.com", "HANDOFF_WEBHOOK_SECRET": "s"}, "HANDOFF_WEBHOOK_URL: must be"),
    ],
)
def test_a_webhook_setting_that_cannot_work_is_named(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert (expected in str(caught.value) and "HANDOFF_WEBHOOK_URL" in str(caught.value)) or "SECRET" in expected


async def test_forgetting_a_customer_drops_their_undelivered_events(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis
) -> None:
    _, slack = await start_sarah(webhook=webhook(free_port()))  # nobody listens: the events wait
    await escalated_dm(slack, fake_slack)
    await eventually_async(lambda: redis.xlen(WEBHOOK_STREAM))
    forgotten = await Forgetter(redis).forget("UCUSTOMER")
    assert forgotten.threads == 1
    assert await redis.xlen(WEBHOOK_STREAM) == 0 and not await redis.zcard(WEBHOOK_DUE)


async def test_the_receiver_in_the_docs_checks_the_signature_and_opens_a_ticket(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S)
    assert code is not None and len([line for line in code.group(1).splitlines() if line.strip()]) <= 32
    (tmp_path / "receiver.py").write_text(code.group(1))
    tickets: list[dict[str, Any]] = []

    async def create_ticket(request: web.Request) -> web.Response:
        tickets.append({"auth": request.headers["Authorization"], **await request.json()})
        return web.json_response({"ticket": {"id": 1}}, status=201)

    app = web.Application()
    app.router.add_post("/api/v2/tickets.json", create_ticket)
    zendesk = web.AppRunner(app)
    await zendesk.setup()
    zendesk_port, receiver_port = free_port(), free_port()
    await web.TCPSite(zendesk, "127.0.0.1", zendesk_port).start()
    env = {
        "PATH": "/usr/bin:/bin",
        "HANDOFF_WEBHOOK_SECRET": SECRET,
        "ZENDESK_URL": f"http://127.0.0.1:{zendesk_port}",
        "ZENDESK_EMAIL": "agent@zennest.com",
        "ZENDESK_TOKEN": "zd-token",
        "PORT": str(receiver_port),
    }
    process = await asyncio.create_subprocess_exec(sys.executable, str(tmp_path / "receiver.py"), env=env)
    event = {
        "id": "e1",
        "event": "handoff.opened",
        "thread": {"channel": "D0CUST", "thread_ts": "1.2", "link": None},
        "card": {"channel": "C0SUPPORT", "ts": "3.4", "link": "https://zennest.slack.com/archives/C0SUPPORT/p34"},
        "customer": "UCUSTOMER",
        "reason": "customer_asked",
    }
    body = json.dumps(event).encode()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{receiver_port}/"
            for _ in range(100):  # until it listens
                try:
                    stamp = str(int(time.time()))
                    headers = {"X-Sarah-Timestamp": stamp, "X-Sarah-Signature": "v0=forged"}
                    async with session.post(url, data=body, headers=headers) as forged:
                        assert forged.status == 401
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            headers = {"X-Sarah-Timestamp": stamp, "X-Sarah-Signature": sign(SECRET, stamp, body)}
            async with session.post(url, data=body, headers=headers) as signed:
                assert signed.status == 200
    finally:
        process.terminate()
        await process.wait()
        await zendesk.cleanup()
    assert len(tickets) == 1
    ticket = tickets[0]["ticket"]
    assert ticket["external_id"] == "D0CUST:1.2" and "https://zennest.slack.com/archives/C0SUPPORT/p34" in str(ticket)
    assert tickets[0]["auth"].startswith("Basic ")
