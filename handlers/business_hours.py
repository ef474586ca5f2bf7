"""Business time: how much of a span the support team was at work, and when a target runs out.

The team works `start`–`end` (wall-clock, in its time zone) on its working days, except its days off.
A hand-off made on Friday evening and answered on Monday morning was answered within minutes of
business time; that is what counts against the targets. Windows are built in local wall time, so a
9-to-5 day stays 9-to-5 across a change to or from summer time. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.settings import ServiceLevelSettings
from config.support_hours import parse_dates, parse_days, parse_hours, parse_zone

_HORIZON_DAYS = 3 * 366  # a target further away than this in business time is never reached


@dataclass(frozen=True, slots=True)
class BusinessHours:
    start_minute: int  # after local midnight
    end_minute: int  # 1440: until midnight
    days: frozenset[int]  # working weekdays, Monday 0
    zone: ZoneInfo
    days_off: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, s: ServiceLevelSettings) -> BusinessHours:
        start, end = parse_hours(s.support_hours)
        days, zone = parse_days(s.support_days), parse_zone(s.support_timezone)
        return cls(start, end, days, zone, parse_dates(s.support_days_off))

    @classmethod
    def always(cls) -> BusinessHours:
        """Every hour of every day (UTC): business time equals wall-clock time."""
        return cls(0, 24 * 60, frozenset(range(7)), ZoneInfo("UTC"))

    def seconds_between(self, start: float, end: float) -> float:
        """Business seconds in [start, end] (epoch seconds); 0 when end is not after start."""
        total = 0.0
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            total += max(0.0, min(closes, end) - max(opens, start))
        return total

    def deadline(self, start: float, seconds: float) -> float:
        """The instant at which `seconds` of business time have passed since `start`."""
        left = seconds
        for opens, closes in self._windows(start):
            begin = max(opens, start)
            if closes - begin >= left:
                return begin + left
            left -= max(0.0, closes - begin)
        return float("inf")

    def _windows(self, start: float) -> Iterator[tuple[float, float]]:
        """The working windows (epoch seconds) that end after `start`, in order."""
        day = datetime.fromtimestamp(start, self.zone).date() - timedelta(days=1)  # a window may span midnight UTC
        for _ in range(_HORIZON_DAYS):
            if day.weekday() in self.days and day not in self.days_off:
                opens, closes = self._at(day, self.start_minute), self._at(day, self.end_minute)
                if closes > start:
                    yield opens, closes
            day += timedelta(days=1)

    def _at(self, day: date, minute: int) -> float:
        if minute >= 24 * 60:
            day, minute = day + timedelta(days=1), minute - 24 * 60
        return datetime.combine(day, time(minute // 60, minute % 60), self.zone).timestamp()
