"""Several Lua scripts in one round trip to Redis.

A script registered with redis-py (`Redis.register_script`) costs one round trip when called alone.
Sent in a pipeline, redis-py first asks SCRIPT EXISTS for every script, on every execute: a round
trip more, not less. `run_together` sends plain EVALSHAs in one pipeline instead, and only when
Redis answers NOSCRIPT (it was restarted or flushed its script cache) runs those scripts again the
ordinary way, which loads them. Every script sent together must be safe to run again, and must
not depend on another's reply (the ingress's XADD and its queueing in the thread are both
idempotent by message; the worker's `begin` checks the lease its `accept` took).

redis-py refuses scripts in a Redis Cluster pipeline: there the calls are sent side by side instead
(one round trip of waiting, a request each).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One call of a registered script: what it runs on and with."""

    script: AsyncScript
    keys: list[str]
    args: list[Any]

    async def run(self) -> Any:
        """Alone: one round trip (two the first time, when the script is loaded)."""
        return await self.script(keys=self.keys, args=self.args)


def as_function(name: str, script: AsyncScript) -> str:
    """`script`'s Lua as a local function of its own KEYS and ARGV, so that several scripts can run
    as one (where their keys live on one server): the same code, no second copy to keep in step."""
    source = script.script if isinstance(script.script, str) else bytes(script.script).decode()
    return f"local function {name}(KEYS, ARGV)\n{source}\nend\n"


def lua_slice(name: str = "slice") -> str:
    """A Lua helper that cuts a script's own KEYS or ARGV out of one script's whole list."""
    return (
        f"local function {name}(list, first, count)\n"
        "  local out = {}\n"
        "  for i = first, first + count - 1 do out[#out + 1] = list[i] end\n"
        "  return out\n"
        "end\n"
    )


async def run_together(
    redis: Redis, calls: list[ScriptCall], *, raise_on_error: bool = True, in_order: bool = False
) -> list[Any]:
    """The replies of `calls`, run in one round trip; the first error is raised, or with
    `raise_on_error=False` returned in its call's place. (A lost connection always raises.)

    In one pipeline the calls run in order, one right after the other. `in_order` keeps that
    promise in a Redis Cluster too, where they are otherwise sent side by side."""
    if isinstance(redis, RedisCluster):
        # redis-py refuses scripts in a cluster pipeline: the calls are sent one by one or side by side
        replies: list[Any] = []
        if in_order:
            for call in calls:
                try:
                    replies.append(await call.run())
                except ResponseError as error:
                    replies.append(error)
        else:
            replies = list(await asyncio.gather(*(call.run() for call in calls), return_exceptions=True))
    else:
        async with redis.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
            replies = await pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                replies[index] = await calls[index].run()
    for reply in replies:
        if raise_on_error and isinstance(reply, Exception):
            raise reply
    return replies
