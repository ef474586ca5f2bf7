"""The front door (/slack/events) against clients that never finish a request: the signature headers
are checked before any body is read, headers and bodies must arrive within HTTP_READ_TIMEOUT_SECONDS,
and unauthenticated connections cannot grow the process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

from sarah_testing.slack_payloads import dm, envelope, signed_headers
from tests.conftest import StartSarah

ROOT = Path(__file__).resolve().parents[2]
READ_TIMEOUT = 1.0


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


async def slow_clients(port: int, headers: int, bodies: int, body_bytes: int, wait: float) -> dict[str, float]:
    """Run sarah_testing/slow_clients.py in its own process, sampling this process's memory meanwhile."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sarah_testing.slow_clients",
        *(str(n) for n in (port, headers, bodies, body_bytes, wait)),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    peak = rss_mb()
    output = asyncio.ensure_future(child.communicate())
    while not output.done():
        peak = max(peak, rss_mb())
        await asyncio.sleep(0.05)
    result: dict[str, float] = json.loads((await output)[0])
    result["peak_rss_mb"] = peak
    return result


async def post(port: int | None, body: bytes, headers: dict[str, str]) -> int:
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_a_request_without_fresh_signature_headers_is_refused_before_its_body_is_read(
    start_sarah: StartSarah,
) -> None:
    sarah, _ = await start_sarah(
        slack={"http_read_timeout_seconds": READ_TIMEOUT, "http_idle_timeout_seconds": READ_TIMEOUT}
    )
    for headers in (
        {},
        {"X-Slack-Request-Timestamp": str(int(time.time()))},  # no signature
        {"X-Slack-Request-Timestamp": str(int(time.time()) - 600), "X-Slack-Signature": "v0=" + "0" * 64},  # stale
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "sha1=abc"},
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", sarah.http_port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            (
                "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: 500000\r\n{head}\r\n"
            ).encode()
        )  # and no body at all: the answer must not wait for one
        status_line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT / 2)
        writer.close()
        assert status_line.startswith(b"HTTP/1.1 401"), (headers, status_line)


async def test_a_body_over_the_limit_is_refused_from_its_length_alone(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah(
        slack={"http_read_timeout_seconds": READ_TIMEOUT, "http_idle_timeout_seconds": READ_TIMEOUT}
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", sarah.http_port)
    stamp = str(int(time.time()))
    writer.write(
        (
            "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n"
            f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: v0={'0' * 64}\r\n\r\n"
        ).encode()
    )
    status_line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT / 2)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_slack_is_still_answered_within_the_read_timeout(start_sarah: StartSarah) -> None:
    sarah, _ = await start_sarah(
        slack={"http_read_timeout_seconds": READ_TIMEOUT, "http_idle_timeout_seconds": READ_TIMEOUT}
    )
    body = json.dumps(envelope(dm("hello"))).encode()
    assert await post(sarah.http_port, body, signed_headers(body.decode())) == 200


async def test_slow_clients_are_closed_within_the_read_timeout_and_do_not_grow_the_process(
    start_sarah: StartSarah,
) -> None:
    sarah, _ = await start_sarah(
        slack={"http_read_timeout_seconds": READ_TIMEOUT, "http_idle_timeout_seconds": READ_TIMEOUT}
    )
    await slow_clients(sarah.http_port or 0, 5, 5, 10_000, 5)  # warm up: the first connections' own cost
    before = rss_mb()
    result = await slow_clients(sarah.http_port or 0, 300, 300, 900_000, 4 * READ_TIMEOUT + 4)
    assert result["headers_closed"] == 300 and result["bodies_closed"] == 300, result
    assert result["slowest_close"] < READ_TIMEOUT + 1.5, result  # the timeout, with room for a loaded machine
    # 300 stalled 900 KB bodies held at once would be about 260 MB
    assert result["peak_rss_mb"] - before < 60, (before, result)
    body = json.dumps(envelope(dm("still here"))).encode()
    assert await post(sarah.http_port, body, signed_headers(body.decode())) == 200  # Slack still gets in
