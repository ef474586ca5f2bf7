"""When Sarah cannot start, the `sarah` command says why in one sentence that names the setting to
change, and exits non-zero: no traceback, no aiohttp noise, no talk of loops being cancelled."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.ports import health_port
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.redis_process import RedisServer
from sarah_testing.server import eventually
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah

ROOT = Path(__file__).parents[2]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


@dataclass
class Run:
    code: int | None
    stderr: str

    def sentence(self) -> str:
        """What the user reads besides log lines: exactly one line."""
        said = [line for line in self.stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]
        assert len(said) == 1, self.stderr
        return said[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the socket is closed


def environment(**settings: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "COALESCE_SECONDS": "0", **settings}


async def start_sarah_command(*args: str, cwd: Path, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sarah_cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=environment(**settings),
    )


async def sarah(*args: str, cwd: Path, **settings: str) -> Run:
    process = await start_sarah_command(*args, cwd=cwd, **settings)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 90)
    finally:
        if process.returncode is None:  # it did not stop by itself: never leave it running
            process.kill()
            await process.wait()
    return Run(process.returncode, err.decode())


def assert_stops_naming(run: Run, *words: str) -> str:
    assert run.code == 2, run.stderr
    assert "Traceback" not in run.stderr and "Unclosed client session" not in run.stderr, run.stderr
    assert "loop was cancelled" not in run.stderr
    sentence = run.sentence()
    for word in words:
        assert word in sentence, sentence
    return sentence


def slack_env(fake_slack: FakeSlack, **more: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": fake_slack.api_url,
        "SUPPORT_CHANNEL": SUPPORT_CHANNEL,
        "REDIS_URL": REDIS_TEST_URL,
        "SARAH_HOST": "127.0.0.1",
        **more,
    }


async def test_redis_that_does_not_answer_is_named_by_redis_url_and_where_it_was_looked_for(tmp_path: Path) -> None:
    port = closed_port()
    run = await sarah("chat", cwd=tmp_path, REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    sentence = assert_stops_naming(run, "REDIS_URL", f"127.0.0.1:{port}", "Connection refused")
    assert "hunter2" not in run.stderr  # the password in the URL is never shown
    assert sentence.endswith(".")


async def test_redis_that_refuses_the_password_says_where_the_password_goes(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", "--requirepass", "the-right-one")
    server.start()
    try:
        run = await sarah("chat", cwd=tmp_path, REDIS_URL=f"redis://:wrong-one@127.0.0.1:{server.port}/0")
    finally:
        server.stop()
    assert_stops_naming(run, "refused Sarah's credentials", "REDIS_URL")
    assert "wrong-one" not in run.stderr


async def test_sentinels_and_a_cluster_that_do_not_answer_name_their_own_settings(tmp_path: Path) -> None:
    run = await sarah("chat", cwd=tmp_path, REDIS_SENTINELS=f"127.0.0.1:{closed_port()}")
    assert_stops_naming(run, "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER")
    run = await sarah("chat", cwd=tmp_path, REDIS_CLUSTER="true", REDIS_URL=f"redis://127.0.0.1:{closed_port()}")
    assert_stops_naming(run, "Redis Cluster", "REDIS_URL")


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_slack_that_cannot_be_reached_is_named_by_slack_api_url(
    mode: str, tmp_path: Path, redis: object, fake_slack: FakeSlack
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api/"
    socket_mode = {"SLACK_APP_TOKEN": "xapp-test"} if mode == "socket" else {}
    run = await sarah(cwd=tmp_path, **slack_env(fake_slack, SLACK_API_URL=api, **socket_mode))
    assert_stops_naming(run, f"SLACK_API_URL {api}", "Connection refused")


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_bot_token_slack_refuses_is_named(
    mode: str, tmp_path: Path, redis: object, fake_slack: FakeSlack
) -> None:
    fake_slack.token_valid = False
    socket_mode = {"SLACK_APP_TOKEN": "xapp-test"} if mode == "socket" else {}
    run = await sarah(cwd=tmp_path, **slack_env(fake_slack, **socket_mode))
    assert_stops_naming(run, "Slack refused SLACK_BOT_TOKEN (invalid_auth)")


async def test_an_app_token_slack_refuses_is_named_instead_of_retried_forever(
    tmp_path: Path, redis: object, fake_slack: FakeSlack
) -> None:
    fake_slack.app_token_valid = False
    run = await sarah(cwd=tmp_path, **slack_env(fake_slack, SLACK_APP_TOKEN="xapp-test", SARAH_PORT="0"))
    assert_stops_naming(run, "Slack refused SLACK_APP_TOKEN (invalid_auth)")


async def test_a_port_in_use_is_named_with_its_setting(tmp_path: Path, redis: object, fake_slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = await sarah(cwd=tmp_path, **slack_env(fake_slack, SARAH_PORT=str(port)))
        assert_stops_naming(run, f"Port {port} (SARAH_PORT) is already in use")
        worker = slack_env(fake_slack, SARAH_ROLE="worker", SARAH_HEALTH_PORT=str(port))
        run = await sarah(cwd=tmp_path, **worker)
        assert_stops_naming(run, f"Port {port} (SARAH_HEALTH_PORT) is already in use")


async def answers(url: str, within: float = 60) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    return False


@pytest.fixture
async def ingress(tmp_path: Path, redis: object, fake_slack: FakeSlack) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """An ingress in HTTP mode on a free port, as a process; yields its port and its settings."""
    settings = slack_env(fake_slack, SARAH_PORT=str(closed_port()), SARAH_ROLE="ingress")
    process = await start_sarah_command(cwd=tmp_path, **settings)
    try:
        port = int(settings["SARAH_PORT"])
        assert await answers(f"http://127.0.0.1:{port}/readyz"), "the ingress did not start"
        yield port, settings
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 60)


async def test_a_worker_beside_an_ingress_with_the_same_settings_starts_and_a_second_one_says_why_not(
    ingress: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    port, settings = ingress
    worker_settings = {**settings, "SARAH_ROLE": "worker"}
    worker = await start_sarah_command(cwd=tmp_path, **worker_settings)
    try:
        assert await answers(f"http://127.0.0.1:{port + 1}/healthz"), "the worker did not start"
        probe = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.probe", "/healthz", env=environment(**worker_settings), cwd=tmp_path
        )
        assert await probe.wait() == 0  # the image's health check finds the worker's port too
        second = await sarah(cwd=tmp_path, **worker_settings)
        assert_stops_naming(second, f"Port {port + 1} (SARAH_HEALTH_PORT", "another Sarah worker")
    finally:
        worker.terminate()
        await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0


def test_a_worker_health_port_defaults_beside_sarah_port_unless_set() -> None:
    assert health_port("all", 3000, None) == 3000
    assert health_port("ingress", 3000, None) == 3000
    assert health_port("worker", 3000, None) == 3001
    assert health_port("worker", 3000, 9000) == 9000
    assert health_port("worker", 0, None) == 0  # any free port stays any free port


async def test_with_log_level_debug_the_traceback_comes_before_the_sentence(tmp_path: Path) -> None:
    run = await sarah("chat", cwd=tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", LOG_LEVEL="DEBUG")
    assert run.code == 2
    assert "Traceback" in run.stderr
    assert "REDIS_URL" in run.stderr.strip().splitlines()[-1]


async def test_a_model_that_cannot_be_reached_at_start_is_a_warning_and_messages_are_still_taken(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    _, sender = await start_sarah(model={"openai_base_url": base_url})
    ts = new_ts()
    assert await sender.event(dm("is my ZenHub online?", ts=ts)) == 200
    apology = await fake_slack.wait_for(
        lambda: [m for m in fake_slack.thread("D0CUSTOMER", ts) if "couldn't reach my knowledge" in m.body]
    )
    assert apology  # the message was taken and answered as well as Sarah can without the model
    warned = await eventually(
        lambda: [r for r in caplog.records if "could not be reached at " + base_url in r.getMessage()]
    )
    assert warned[0].levelno == logging.WARNING and "OPENAI_BASE_URL" in warned[0].getMessage()
