"""A hand-off's times count against the targets in business hours: a night and a weekend are free."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ops.metrics import Metrics, sample
from bot.ops.service_watch import ServiceWatch
from config.support_hours import parse_days
from handlers.business_hours import BusinessHours
from handlers.messages import ThreadRef
from handlers.service_levels import Targets
from handlers.store.ownership import ServiceTimes

BERLIN = ZoneInfo("Europe/Berlin")
TARGETS = Targets(BusinessHours(9 * 60, 17 * 60, parse_days("mon-fri"), BERLIN), 3600, 8 * 3600)
THREAD = ThreadRef("D0CUST", "1.2")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


async def test_an_answer_after_a_night_is_measured_in_business_minutes_and_meets_the_target() -> None:
    metrics = Metrics()
    watch = ServiceWatch(metrics, TARGETS)
    handed_over = at("2026-12-01 16:30")  # Tuesday evening
    await watch.answered(THREAD, ServiceTimes(handed_over, 0.0, "customer_asked"), "UAGENT", at("2026-12-02 09:20"))
    assert sample(metrics, "sarah_handoff_first_response_business_seconds_sum") == 50 * 60
    assert sample(metrics, "sarah_service_targets_total", {"target": "first_response", "result": "met"}) == 1


async def test_a_resolution_over_a_weekend_counts_only_working_hours() -> None:
    metrics = Metrics()
    watch = ServiceWatch(metrics, TARGETS)
    handed_over, answered = at("2026-12-04 15:00"), at("2026-12-04 15:30")  # Friday afternoon
    times = ServiceTimes(handed_over, answered, "steps_failed")
    await watch.closed(THREAD, times, "UAGENT", at("2026-12-07 16:00"), resolved=True)  # Monday 16:00
    assert sample(metrics, "sarah_handoff_resolution_business_seconds_sum") == 2 * 3600 + 7 * 3600
    assert sample(metrics, "sarah_service_targets_total", {"target": "resolution", "result": "missed"}) == 1
