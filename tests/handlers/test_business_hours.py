"""Business time: what counts against the support team's targets."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.support_hours import parse_days, parse_hours
from handlers.business_hours import BusinessHours

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = BusinessHours(9 * 60, 17 * 60, parse_days("mon-fri"), BERLIN)


def at(text: str) -> float:
    """A Berlin wall-clock time as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def test_a_span_inside_one_working_day_counts_whole() -> None:
    assert NINE_TO_FIVE.seconds_between(at("2026-12-01 10:00"), at("2026-12-01 10:45")) == 45 * 60


def test_the_night_does_not_count() -> None:
    # handed over at 16:30 Tuesday, answered 09:20 Wednesday: 30 + 20 minutes of business time
    assert NINE_TO_FIVE.seconds_between(at("2026-12-01 16:30"), at("2026-12-02 09:20")) == 50 * 60


def test_the_weekend_does_not_count() -> None:
    assert NINE_TO_FIVE.seconds_between(at("2026-12-04 16:00"), at("2026-12-07 10:00")) == 2 * 3600


def test_a_day_off_does_not_count() -> None:
    hours = BusinessHours(9 * 60, 17 * 60, parse_days("mon-fri"), BERLIN, frozenset({date(2026, 12, 25)}))
    # Thursday 24th 16:00 → Monday 28th 10:00: 1 h on Thursday, Friday is Christmas, 1 h on Monday
    assert hours.seconds_between(at("2026-12-24 16:00"), at("2026-12-28 10:00")) == 2 * 3600


def test_a_span_outside_hours_counts_nothing() -> None:
    assert NINE_TO_FIVE.seconds_between(at("2026-12-05 08:00"), at("2026-12-06 20:00")) == 0


def test_the_change_to_summer_time_keeps_a_working_day_eight_hours() -> None:
    # 2026-03-29 is a Sunday in Berlin; use a seven-day team so the change day itself is worked
    every_day = BusinessHours(9 * 60, 17 * 60, parse_days("mon-sun"), BERLIN)
    assert every_day.seconds_between(at("2026-03-28 12:00"), at("2026-03-29 12:00")) == 8 * 3600


def test_a_round_the_clock_day_is_23_hours_when_the_clocks_go_forward() -> None:
    always_berlin = BusinessHours(0, 24 * 60, parse_days("mon-sun"), BERLIN)
    assert always_berlin.seconds_between(at("2026-03-29 00:00"), at("2026-03-30 00:00")) == 23 * 3600


def test_the_deadline_skips_the_night_and_the_weekend() -> None:
    # one hour of target left at 16:30 on a Friday: due Monday 09:30
    assert NINE_TO_FIVE.deadline(at("2026-12-04 16:30"), 3600) == at("2026-12-07 09:30")


def test_the_deadline_from_before_opening_starts_at_opening() -> None:
    assert NINE_TO_FIVE.deadline(at("2026-12-01 06:00"), 600) == at("2026-12-01 09:10")


def test_always_open_is_wall_clock_time() -> None:
    always = BusinessHours.always()
    assert always.seconds_between(1_000_000.0, 1_090_000.0) == 90_000
    assert always.deadline(1_000_000.0, 5.0) == 1_000_005.0


@pytest.mark.parametrize("bad", ["9-5", "17:00-09:00", "09:00-25:00", "09:61-10:00", "nine to five"])
def test_hours_that_do_not_parse_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(bad)


def test_day_ranges_and_lists_read_as_weekdays() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("sat,sun") == frozenset({5, 6})
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
