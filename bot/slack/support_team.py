"""Who is on the support team: a Slack user group when SUPPORT_USERGROUP is set, else the members of
the support channel, which must then be private and not shared with another organisation (anyone
who can join a public channel, or anyone in a partner's workspace, would otherwise speak for ZenNest).
With a user group the channel must still be private, since every card in it carries a customer's
name and words, unless an admin accepts that with SUPPORT_CHANNEL_ALLOW_PUBLIC=true.

Looked up through the Web API and kept for SUPPORT_TEAM_CACHE_SECONDS, per process. A lookup that
fails leaves nobody on the team until one succeeds (fail closed): a removed agent is never kept on
because Slack was briefly unreachable, at the price of agents waiting for the next good lookup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

_SHARING = ("is_ext_shared", "is_pending_ext_shared", "is_shared", "is_org_shared")


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What conversations.info says about the support channel."""

    channel: str
    is_private: bool
    shared: tuple[str, ...]  # the sharing flags that are set, e.g. ("is_ext_shared", "is_shared")
    members: int | None
    sarah_is_member: bool

    def unsafe_for_membership(self) -> str | None:
        """Why the channel's members cannot be taken as the support team, or None."""
        if not self.is_private:
            return (
                f"SUPPORT_CHANNEL {self.channel} is public, so anyone in the workspace could join it and "
                "speak to customers as ZenNest support: make it private, or set SUPPORT_USERGROUP"
            )
        if self.shared:
            return (
                f"SUPPORT_CHANNEL {self.channel} is shared with another workspace or organisation "
                f"({', '.join(self.shared)}), so people outside ZenNest would count as support: use an "
                "unshared private channel, or set SUPPORT_USERGROUP"
            )
        return None

    def unsafe_for_cards(self, *, allow_public: bool) -> str | None:
        """Why the channel cannot receive the cards (a user group names the team), or None."""
        if self.is_private or allow_public:
            return None
        return (
            f"SUPPORT_CHANNEL {self.channel} is public, so anyone in the workspace could join it and read every "
            "hand-off card (customers' names and words): make it private, or set "
            "SUPPORT_CHANNEL_ALLOW_PUBLIC=true to accept that"
        )

    def describe(self) -> str:
        privacy = "private" if self.is_private else "public"
        sharing = f"shared ({', '.join(self.shared)})" if self.shared else "not shared"
        members = "unknown number of" if self.members is None else str(self.members)
        return f"SUPPORT_CHANNEL {self.channel}: {privacy}, {sharing}, {members} members"


async def channel_facts(client: AsyncWebClient, channel: str) -> ChannelFacts:
    """conversations.info of `channel` (raises SlackApiError when Slack refuses)."""
    response = await client.conversations_info(channel=channel, include_num_members=True)
    info = response.get("channel") or {}
    members = info.get("num_members")
    return ChannelFacts(
        channel=channel,
        is_private=bool(info.get("is_private")),
        shared=tuple(flag for flag in _SHARING if info.get(flag)),
        members=members if isinstance(members, int) else None,
        sarah_is_member=bool(info.get("is_member")),
    )


class SupportTeam:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str | None,
        usergroup: str | None,
        cache_seconds: float,
        allow_public: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`allow_public`: SUPPORT_CHANNEL_ALLOW_PUBLIC, the admin's acceptance that anyone may read the
        cards (only with a user group: a public channel's members never count as the team)."""
        self._client = client
        self._channel = channel
        self._usergroup = usergroup
        self._allow_public = allow_public
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")

    async def is_member(self, user: str) -> bool:
        if self._clock() - self._fetched_at > self._cache_seconds:
            members = await self._fetch()
            self._members = members or frozenset()
            if members is not None:  # a failed lookup is tried again on the next question
                self._fetched_at = self._clock()
        return user in self._members

    async def why_unsafe(self) -> str | None:
        """At start: why the team cannot be trusted as configured (names the setting), or None.

        With SUPPORT_USERGROUP the group decides and the channel only receives cards: it must be
        private unless SUPPORT_CHANNEL_ALLOW_PUBLIC accepts that anyone reads them.
        """
        if not self._channel:
            return None
        facts = await channel_facts(self._client, self._channel)
        if not self._usergroup:
            return facts.unsafe_for_membership()
        problem = facts.unsafe_for_cards(allow_public=self._allow_public)
        if problem is None and not facts.is_private:
            log.warning(
                "SUPPORT_CHANNEL %s is public and SUPPORT_CHANNEL_ALLOW_PUBLIC=true: anyone in the workspace "
                "can read the hand-off cards",
                self._channel,
            )
        return problem

    async def _fetch(self) -> frozenset[str] | None:
        """The team's user ids, or None when Slack could not say (logged; nobody is support then)."""
        try:
            if self._usergroup:
                response = await self._client.usergroups_users_list(usergroup=self._usergroup)
                return frozenset(response.get("users") or [])
            if not self._channel:
                return frozenset()
            facts = await channel_facts(self._client, self._channel)
            problem = facts.unsafe_for_membership()
            if problem:  # it changed since Sarah started: nobody speaks for ZenNest until it is fixed
                log.error("support team: %s", problem)
                return frozenset()
            members: set[str] = set()
            cursor = None
            while True:
                response = await self._client.conversations_members(channel=self._channel, cursor=cursor, limit=1000)
                members.update(response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return frozenset(members)
        except SlackApiError as error:
            why = str(error.response.get("error", "unknown error"))
        except (aiohttp.ClientError, TimeoutError) as error:
            why = type(error).__name__
        log.error("support team lookup failed (%s): nobody counts as support until it succeeds", why)
        return None
