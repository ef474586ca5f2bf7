"""Run an aiohttp application on 127.0.0.1 on a free port, for the fakes the tests start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web


class LocalServer:
    def __init__(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        await self._runner.cleanup()


async def eventually_async(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """`eventually` for a check that must ask something (Redis) each time."""
    deadline = asyncio.get_running_loop().time() + within
    while not (result := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)
    return result


async def stream_is_empty(redis: Any, stream: str) -> bool:
    """Every answered entry acknowledged and deleted (the worker does it with its next read)."""
    return int(await redis.xlen(stream)) == 0


async def eventually(predicate: Callable[[], Any], within: float = 10.0) -> Any:
    """Poll `predicate` until it is truthy (for state no fake announces), or fail after `within` s."""
    deadline = asyncio.get_running_loop().time() + within
    while not (result := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)
    return result
