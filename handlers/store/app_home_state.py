"""What App Home shares across processes: who has the tab open, and the workspace's URL.

The viewers are a sorted set (user id → when they last opened the tab), so whichever process
changes a hand-off publishes the queue again to the support members looking at it. The workspace's
URL (auth.test's, learnt by the ingress) lets every process, workers too, link to a card without
an API call: App Home's "Open card" buttons and the hand-off events' links.
"""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.store.keys import HOME_VIEWERS, HOME_WORKSPACE_URL
from handlers.store.values import as_text


class AppHomeState:
    def __init__(self, redis: Redis, *, ttl_seconds: int = 30 * 86_400) -> None:
        self._redis = redis
        self._ttl = ttl_seconds  # every key has a TTL: the conversations' retention

    async def remember_workspace_url(self, url: str) -> None:
        await self._redis.set(HOME_WORKSPACE_URL, url, ex=self._ttl)

    async def workspace_url(self) -> str:
        """The workspace's URL as the ingress stored it; "" until it has."""
        return as_text(await self._redis.get(HOME_WORKSPACE_URL) or b"")

    async def viewer_opened(self, user: str, now: float, *, keep_seconds: int) -> None:
        """`user` opened the tab at `now`; the set lives `keep_seconds` after the latest opening
        (at most the retention)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(HOME_VIEWERS, {user: now})
            pipe.expire(HOME_VIEWERS, min(keep_seconds, self._ttl))
            await pipe.execute()

    async def viewers_since(self, since: float) -> list[str]:
        """Who opened the tab after `since`; those who opened it earlier are forgotten."""
        await self._redis.zremrangebyscore(HOME_VIEWERS, "-inf", since)
        return [as_text(user) for user in await self._redis.zrange(HOME_VIEWERS, 0, -1)]
