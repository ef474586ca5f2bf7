"""Reading the support team's hours from settings: each parser raises one sentence saying what is wrong.

`SUPPORT_HOURS=09:00-17:30`, `SUPPORT_DAYS=mon-fri` (or `mon,tue,thu`), `SUPPORT_TIMEZONE=Europe/Berlin`,
`SUPPORT_DAYS_OFF=2026-12-25,2026-12-26`. The calculator that uses them is handlers/business_hours.py.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hours(value: str) -> tuple[int, int]:
    """`HH:MM-HH:MM` → (start, end) in minutes after midnight; `24:00` ends at midnight."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(f"{value!r} is not a span of hours: write it like 09:00-17:30")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start > 24 * 60 or end > 24 * 60:
        raise ValueError(f"{value!r} is not a span of hours: hours go from 00:00 to 24:00")
    if end <= start:
        raise ValueError(f"{value!r} ends before it starts: write it like 09:00-17:30 (a span within one day)")
    return start, end


def parse_days(value: str) -> frozenset[int]:
    """`mon-fri` or `mon,wed,fri` (or both, comma-separated) → weekday numbers, Monday 0."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in value.split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r} is not a day: use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    if not days:
        raise ValueError("names no day: use a list like mon-fri")
    return frozenset(days)


def parse_zone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone: use an IANA name such as Europe/Berlin or UTC") from None


def parse_dates(value: str) -> frozenset[date]:
    dates: set[date] = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            dates.add(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"{part!r} is not a date: write days off as YYYY-MM-DD, comma-separated") from None
    return frozenset(dates)


def parse_weekly(value: str) -> tuple[int, int] | None:
    """`mon 09:00` → (weekday, minute after midnight); empty → None (no weekly digest)."""
    if not value.strip():
        return None
    match = re.fullmatch(r"\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*", value.lower())
    if not match or match.group(1) not in DAY_NAMES or int(match.group(2)) > 23 or int(match.group(3)) > 59:
        raise ValueError(f"{value!r} is not a day and a time: write it like mon 09:00 (empty: no digest)")
    return DAY_NAMES.index(match.group(1)), int(match.group(2)) * 60 + int(match.group(3))
