"""Reminders that follow the targets: a warning in the card's thread before a breach, and the support
user group mentioned once at the breach. Never the customer's words, never `@channel`.

Each open hand-off has one entry in a sorted set (thread key → when to look again), popped
atomically by whichever process runs the reminders loop (handlers/store/target_checks.py). Looking
again reads the thread's state, works out which target is running (the first answer, then the
resolution) and how far along it is in business time, says what is due, and schedules the next
look. "Once" is a field of the thread's state set with HSETNX, so two processes never post the
same reminder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from handlers.messages import ThreadRef
from handlers.outbox import Outbox
from handlers.service_levels import Target, Targets, short_duration
from handlers.store.ownership import Owner
from handlers.store.target_checks import TargetChecks
from handlers.store.thread_store import ThreadStore

log = logging.getLogger(__name__)

NAMES = {Target.FIRST_RESPONSE: "First-response", Target.RESOLUTION: "Resolution"}


class Breaches:
    def __init__(
        self,
        checks: TargetChecks,
        store: ThreadStore,
        outbox: Outbox,
        targets: Targets,
        *,
        usergroup: str | None,
        clock: Callable[[], float],
    ) -> None:
        self._checks = checks
        self._store = store
        self._outbox = outbox
        self._targets = targets
        self._usergroup = usergroup or ""
        self._clock = clock

    async def watch(self, thread: ThreadRef, escalated_at: float) -> None:
        """A hand-off opened: look at it when its first-response warning is due."""
        await self._checks.look_at(thread, self._targets.warn_at(Target.FIRST_RESPONSE, escalated_at))

    async def forget(self, thread: ThreadRef) -> None:
        await self._checks.forget(thread)

    async def check_due(self, limit: int = 100) -> int:
        """Post every warning and breach alert that is due; returns how many were posted."""
        now = self._clock()
        posted = 0
        for thread in await self._checks.pop_due(now, limit):
            try:
                posted += await self._check(thread, now)
            except Exception:
                await self._checks.look_at(thread, now + 60)  # Slack or Redis trouble: try again in a minute
                raise
        return posted

    async def _check(self, thread: ThreadRef, now: float) -> int:
        state = await self._store.state(thread)
        if state.owner not in (Owner.WAITING, Owner.HUMAN) or not state.escalated_at or state.card is None:
            return 0  # closed, gone, or no card to remind on
        target = self._targets.pending(state.first_response_at)
        escalated = state.escalated_at
        due, warn = self._targets.due(target, escalated), self._targets.warn_at(target, escalated)
        posted = 0
        if now >= due:
            if await self._checks.first_to_mark(thread, f"breached_{target.value}", now):
                await self._outbox.alert_team(
                    state.card, self._breach_text(target, escalated, now), usergroup=self._usergroup
                )
                posted = 1
            if target is Target.FIRST_RESPONSE:  # then watch the resolution
                await self._checks.look_at(thread, max(now, self._targets.warn_at(Target.RESOLUTION, escalated)))
            return posted
        if now >= warn and self._targets.warning_seconds > 0:
            if await self._checks.first_to_mark(thread, f"warned_{target.value}", now):
                left = self._targets.left(target, escalated, now)
                await self._outbox.support_note(
                    state.card,
                    f":hourglass_flowing_sand: {NAMES[target]} target in {short_duration(left)} of business "
                    f"hours on this card (handed over {short_duration(now - escalated)} ago).",
                )
                posted = 1
            await self._checks.look_at(thread, due)
            return posted
        await self._checks.look_at(thread, warn if self._targets.warning_seconds > 0 else due)
        return 0

    def _breach_text(self, target: Target, escalated: float, now: float) -> str:
        goal = short_duration(self._targets.seconds(target))
        return (
            f":rotating_light: {NAMES[target]} target ({goal} of business hours) "
            f"missed on this card: handed over {short_duration(now - escalated)} ago."
        )
