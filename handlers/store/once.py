"""Things done once across every process sharing Redis: the first to claim a marker does it.

A marker is a key set with SET NX and a TTL: the weekly digest of one ISO week (its poster gives it
back when the post fails, so another worker tries), and telling the support team of one alarm
within its repeat window.
"""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.store.keys import alarm_told_key, digest_key

DIGEST_KEPT_SECONDS = 8 * 86_400  # the week the digest covers and the day a late worker may still post it


class OnceMarkers:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def first_to_post_digest(self, week: str) -> bool:
        """True for the one caller that posts the weekly digest of ISO week `week` (2026-W49)."""
        return await self._claim(digest_key(week), DIGEST_KEPT_SECONDS)

    async def digest_not_posted(self, week: str) -> None:
        """The post failed: the week is free again for the next try (of any worker)."""
        await self._redis.delete(digest_key(week))

    async def first_to_tell_alarm(self, name: str, *, within_seconds: float) -> bool:
        """True for the one caller that tells the team of alarm `name` within `within_seconds`."""
        return await self._claim(alarm_told_key(name), within_seconds)

    async def _claim(self, key: str, seconds: float) -> bool:
        return bool(await self._redis.set(key, "1", nx=True, px=int(seconds * 1000)))
