"""The weekly digest: last week's support numbers, posted to the support channel once a week.

At WEEKLY_DIGEST (a day and a time in SUPPORT_TIMEZONE) the first worker to look takes the week
with a `SET NX` on `sarah:{stats}:digest:<ISO week>`, so several workers post it once. A worker that
was down at the time catches up within a day; later it waits for the next week rather than post
a stale digest. The text is counts and times only, escaped for Slack; never a customer's words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.slack.text import plain_mrkdwn
from handlers.service_levels import Targets
from handlers.service_report import report_lines
from handlers.store.once import OnceMarkers
from handlers.store.open_handoffs import OpenHandoffs
from handlers.store.service_stats import ServiceStats

log = logging.getLogger(__name__)

CATCH_UP_SECONDS = 86_400
WEEK = 7 * 86_400


def _utc_midnight(at: float) -> float:
    return float(int(at // 86_400) * 86_400)


class WeeklyDigest:
    def __init__(
        self,
        once: OnceMarkers,
        slack: Any,  # AsyncWebClient
        *,
        queue: OpenHandoffs,
        channel: str,
        schedule: tuple[int, int],  # (weekday, minute after midnight) in the targets' time zone
        targets: Targets,
        stats: ServiceStats,
        clock: Callable[[], float],
        topic_title: Callable[[str], str] = lambda topic: topic,
    ) -> None:
        """`topic_title` shows a hand-off's topic (a knowledge-base section id) by its title."""
        self._once = once
        self._queue = queue
        self._topic_title = topic_title
        self._slack = slack
        self._channel = channel
        self._weekday, self._minute = schedule
        self._targets = targets
        self._stats = stats
        self._clock = clock
        self._done_week = ""  # the week this process saw posted (by itself or another): no more Redis calls

    def due_at(self, now: float) -> float:
        """The latest scheduled time at or before `now` (epoch seconds)."""
        zone = self._targets.hours.zone
        local = datetime.fromtimestamp(now, zone)
        day = local.date() - timedelta(days=(local.weekday() - self._weekday) % 7)
        at = datetime(day.year, day.month, day.day, self._minute // 60, self._minute % 60, tzinfo=zone).timestamp()
        return at if at <= now else at - WEEK

    async def post_if_due(self) -> bool:
        """Post this week's digest if its time has come and no worker has posted it; True if this one did."""
        now = self._clock()
        due = self.due_at(now)
        week = datetime.fromtimestamp(due, self._targets.hours.zone).strftime("%G-W%V")
        if week == self._done_week or now - due > CATCH_UP_SECONDS:
            return False
        self._done_week = week
        if not await self._once.first_to_post_digest(week):
            return False  # another worker has it
        until = _utc_midnight(due)  # seven whole UTC days: the counters are per day, and weeks do not overlap
        try:
            await self._slack.chat_postMessage(channel=self._channel, text=await self.text(until - WEEK, until))
        except BaseException:  # not posted: give the week back, so the next round (of any worker) tries again
            self._done_week = ""
            await self._once.digest_not_posted(week)
            raise
        log.info("weekly digest posted", extra={"week": week})
        return True

    async def text(self, since: float, until: float) -> str:
        period = await self._stats.period(since, until)
        open_now = await self._queue.size()
        lines = report_lines(period, self._targets, open_handoffs=open_now, topic_title=self._topic_title)
        title, *rest = (plain_mrkdwn(line) for line in lines)
        return "\n".join([f":bar_chart: *Weekly support digest* — {title}", *rest])
