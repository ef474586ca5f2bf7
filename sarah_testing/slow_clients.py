"""`python -m sarah_testing.slow_clients PORT HEADERS BODIES BODY_BYTES WAIT`: clients that never finish.

Opens HEADERS connections that send part of a request's headers and stall, and BODIES connections
that send complete, freshly timestamped but falsely signed headers announcing BODY_BYTES, all of the
body but its last byte, and stall. Waits up to WAIT seconds for the server to close them, then prints
one JSON line: how many of each it closed and the slowest close, in seconds after the last byte sent.
Run as its own process, so the memory the clients hold is not counted as the server's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def stall(port: int, head: bytes, body: bytes, wait: float) -> float | None:
    """Seconds from the last byte sent until the server closed the connection (None: still open)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return 0.0  # refused at once: never held
    sent = time.monotonic()
    try:
        writer.write(head)
        await writer.drain()
        if body:
            writer.write(body)
            await asyncio.wait_for(writer.drain(), wait)
        sent = time.monotonic()
        async with asyncio.timeout(wait):
            while await reader.read(65_536):
                pass  # a response (408, 413, 503…) is fine: what matters is that the server hangs up
    except TimeoutError:
        writer.transport.abort()
        return None
    except OSError:
        pass  # reset by the server: closed
    writer.transport.abort()
    return time.monotonic() - sent


async def main(port: int, headers: int, bodies: int, body_bytes: int, wait: float) -> dict[str, object]:
    partial = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Sla"
    stamp = str(int(time.time()))
    full = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_bytes}\r\nX-Slack-Request-Timestamp: {stamp}\r\n"
        f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n"
    ).encode()
    body = b"{" + b" " * (body_bytes - 2)  # all but the last byte
    header_tasks = [stall(port, partial, b"", wait) for _ in range(headers)]
    body_tasks = [stall(port, full, body, wait) for _ in range(bodies)]
    closes = await asyncio.gather(*header_tasks, *body_tasks)
    header_closes, body_closes = closes[:headers], closes[headers:]
    done = [c for c in closes if c is not None]
    return {
        "headers_closed": sum(c is not None for c in header_closes),
        "bodies_closed": sum(c is not None for c in body_closes),
        "slowest_close": max(done, default=0.0),
    }


if __name__ == "__main__":
    port, headers, bodies, body_bytes = (int(a) for a in sys.argv[1:5])
    print(json.dumps(asyncio.run(main(port, headers, bodies, body_bytes, float(sys.argv[5])))))
