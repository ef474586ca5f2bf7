"""The support team's report: what `sarah report` prints and the weekly digest posts."""

from __future__ import annotations

import pytest

from handlers.business_hours import BusinessHours
from handlers.service_levels import Targets
from handlers.service_report import percentile, report_lines
from handlers.store.service_stats import ClosedHandoff, Period

TARGETS = Targets(BusinessHours.always(), first_response_seconds=3600, resolution_seconds=8 * 3600)


def closed(first: float | None, resolution: float | None, reason: str = "steps_failed") -> ClosedHandoff:
    return ClosedHandoff(reason, 0.0, 1.0, "resolved" if resolution is not None else "handed_back", first, resolution)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5 and percentile(values, 90) == 9 and percentile([], 50) is None


def test_the_report_shows_volume_share_reasons_times_against_targets_and_ratings() -> None:
    period = Period(
        since=1_764_979_200.0,  # 2025-12-06 00:00 UTC
        until=1_765_584_000.0,
        conversations=40,
        unsolved=12,  # 10 handed off, 2 more where an answer did not help
        handoffs={"customer_asked": 6, "steps_failed": 4},
        ratings={5: 3, 4: 1, 2: 1},
        closed=[closed(20 * 60, 2 * 3600), closed(50 * 60, 10 * 3600), closed(3 * 3600, None, "customer_asked")],
    )
    text = "\n".join(report_lines(period, TARGETS, open_handoffs=2))
    assert "Conversations: 40; solved by Sarah without a person: 28 (70%)" in text
    assert "Handed to the team: 10\n  6 × the customer asked for a person\n  4 × the steps did not work" in text
    assert "Open hand-offs now: 2" in text
    assert "First response (target 1 h, business hours): median 50 min, 90th percentile 3 h, 2 of 3 within" in text
    assert "Resolution (target 8 h, business hours): median 2 h, 90th percentile 10 h, 1 of 2 within target" in text
    assert "Ratings: 5, average 4.2/5 (5/5: 3, 4/5: 1, 2/5: 1)" in text


def test_a_quiet_period_says_so_instead_of_dividing_by_zero() -> None:
    text = "\n".join(report_lines(Period(since=0.0, until=86_400.0), TARGETS))
    assert "Conversations: none" in text and "Handed to the team: none" in text
    assert "no hand-off closed in this period" in text and "Ratings: none" in text


@pytest.mark.parametrize("bad", ["7", "seven days", "0d", "-1d", "7y"])
def test_a_period_that_does_not_parse_is_refused_with_how_to_write_it(bad: str) -> None:
    from bot.cli.report import parse_since

    with pytest.raises(ValueError, match="like 7d, 24h or 2w"):
        parse_since(bad)


def test_the_report_names_the_topics_that_most_often_ended_in_a_hand_off_by_their_titles() -> None:
    topics = {f"area/t{n}": n for n in range(1, 8)} | {"(not in the knowledge base)": 7}
    period = Period(since=0.0, until=1.0, conversations=30, unsolved=35, handoffs={"steps_failed": 35}, topics=topics)
    text = "\n".join(report_lines(period, TARGETS, topic_title=lambda topic: topic.upper()))
    assert (
        "Topics that most often ended in a hand-off (what to write next in the knowledge base):\n"
        "  7 × (NOT IN THE KNOWLEDGE BASE)\n  7 × AREA/T7\n  6 × AREA/T6\n  5 × AREA/T5\n  4 × AREA/T4\n"
    ) in text + "\n"
    assert "AREA/T3" not in text  # the five that matter most
    assert "Topics" not in "\n".join(report_lines(Period(since=0.0, until=1.0), TARGETS))
