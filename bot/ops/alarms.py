"""What makes /healthz fail besides a stuck loop: Redis refusing writes, the inbox at its cap, Slack
refusing the bot token. Each is raised where it is met (the ingress, the worker) and counts for
ALARM_HOLD_SECONDS after it was last met, so a probe sees it even between messages; it clears on
its own once the trouble is gone.

The team hears of it once per episode, not once per refused message, and not once per process:
`raise_alarm` decides for this process, then `first_to_tell` for all processes sharing Redis. When
Redis itself refuses the write (full, or away), it is once per process: the alert still goes out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.ops.outage import is_redis_trouble
from handlers.store.once import OnceMarkers

log = logging.getLogger(__name__)

ALARM_HOLD_SECONDS = 60.0
# An alarm met again after this long counts as a new episode: the team is told again.
ALARM_REPEAT_SECONDS = 15 * 60.0
# How long the check across processes may take before this process tells the team anyway.
TOLD_CHECK_SECONDS = 2.0
# What Slack answers when the bot token itself is refused (revoked, app uninstalled, account gone).
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})

Report = Callable[[], tuple[bool, dict[str, Any]]]


class Alarms:
    def __init__(
        self,
        *,
        hold_seconds: float = ALARM_HOLD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        once: OnceMarkers | None = None,
    ) -> None:
        """`once`: in the Redis shared with Sarah's other processes, so the team is told once across
        them (None: once per process)."""
        self._hold = hold_seconds
        self._clock = clock
        self._once = once
        self._seen: dict[str, tuple[float, str]] = {}  # name → (last met, detail)
        self._told: dict[str, float] = {}  # name → when the team was last told

    def raise_alarm(self, name: str, detail: str) -> bool:
        """`name` is met now. True when this starts an episode the team has not been told of."""
        now = self._clock()
        self._seen[name] = (now, detail)
        told = self._told.get(name)
        if told is not None and now - told < ALARM_REPEAT_SECONDS:
            return False
        self._told[name] = now
        return True

    async def first_to_tell(self, name: str) -> bool:
        """After `raise_alarm` said this process should tell the team of `name`: True when no other
        process sharing Redis told it within ALARM_REPEAT_SECONDS (SET NX PX). When Redis refuses
        the write (maxmemory, an outage), True: the once per process already decided still holds."""
        if self._once is None:
            return True
        try:
            async with asyncio.timeout(TOLD_CHECK_SECONDS):
                taken = await self._once.first_to_tell_alarm(name, within_seconds=ALARM_REPEAT_SECONDS)
        except Exception as error:
            if not (is_redis_trouble(error) or isinstance(error, TimeoutError)):
                raise
            log.warning(
                "could not check whether another process told the team of %s (%s): telling it from here",
                name,
                type(error).__name__,
            )
            return True
        if not taken:
            log.info("the team was told of %s by another process already", name)
        return bool(taken)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): the alarms met within the hold, each with what it means."""
        now = self._clock()
        active = {name: detail for name, (at, detail) in self._seen.items() if now - at <= self._hold}
        return not active, ({"alarms": active} if active else {})


def token_refused(error: BaseException) -> str | None:
    """Slack's error code when `error` says the bot token is refused, else None."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "")
        return code if code in TOKEN_REFUSED else None
    return None


def together(*reports: Report | None) -> Report:
    """One report of several: healthy when all are, their details merged."""

    def report() -> tuple[bool, dict[str, Any]]:
        ok, body = True, {}
        for part in reports:
            if part is not None:
                healthy, details = part()
                ok = ok and healthy
                body.update(details)
        return ok, body

    return report
