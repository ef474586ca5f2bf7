"""The App Home queue shows each open hand-off's age and business time left, missed targets first."""

from __future__ import annotations

import json

from bot.slack.app_home import queue_view
from handlers.business_hours import BusinessHours
from handlers.messages import ThreadRef
from handlers.service_levels import Targets
from handlers.store.open_handoffs import OpenHandoff
from handlers.store.ownership import Owner

TARGETS = Targets(BusinessHours.always(), first_response_seconds=3600, resolution_seconds=8 * 3600)
NOW = 1_765_000_000.0


def entry(ts: str, handed_over_ago: float, *, answered_ago: float | None = None) -> OpenHandoff:
    owner = Owner.HUMAN if answered_ago is not None else Owner.WAITING
    first = NOW - answered_ago if answered_ago is not None else 0.0
    return OpenHandoff(
        ThreadRef("D0CUST", ts), NOW - handed_over_ago, owner, "UAGENT", NOW, "customer_asked", "UCUST", "", "", first
    )


def listed(view: dict[str, object]) -> list[str]:
    return [json.dumps(b) for b in view["blocks"] if isinstance(b, dict) and b.get("type") == "section"]  # type: ignore[attr-defined]


def test_missed_targets_come_first_then_the_least_time_left() -> None:
    fresh = entry("1.1", 10 * 60)  # 50 min left to a first answer
    late = entry("2.2", 90 * 60)  # first answer missed by 30 min
    answered = entry("3.3", 7 * 3600 + 50 * 60, answered_ago=3600)  # 10 min left to resolution
    sections = listed(queue_view([fresh, late, answered], NOW, targets=TARGETS))
    assert "first answer target missed by 30 min" in sections[0] and "Handed off*\\n1 h 30 min ago" in sections[0]
    assert "10 min to resolution" in sections[1]
    assert "50 min to first answer" in sections[2]


def test_without_targets_the_queue_is_as_before() -> None:
    sections = listed(queue_view([entry("1.1", 600)], NOW))
    assert "Time left" not in sections[0]
