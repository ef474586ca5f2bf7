"""Who is on the support team: a Slack user group when SUPPORT_USERGROUP is set, else the members of
the support channel. Looked up through the Web API and kept for a short while, per process."""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


class SupportTeam:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str | None,
        usergroup: str | None,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._channel = channel
        self._usergroup = usergroup
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")

    async def is_member(self, user: str) -> bool:
        if self._clock() - self._fetched_at > self._cache_seconds:
            self._members = await self._fetch()
            self._fetched_at = self._clock()
        return user in self._members

    async def _fetch(self) -> frozenset[str]:
        try:
            if self._usergroup:
                response = await self._client.usergroups_users_list(usergroup=self._usergroup)
                return frozenset(response.get("users") or [])
            if not self._channel:
                return frozenset()
            members: set[str] = set()
            cursor = None
            while True:
                response = await self._client.conversations_members(channel=self._channel, cursor=cursor, limit=1000)
                members.update(response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return frozenset(members)
        except SlackApiError:
            return self._members  # keep the last known team rather than lock everyone out
