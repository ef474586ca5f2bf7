"""The support team's numbers for a period, as lines of plain text: `sarah report` prints them and
the weekly digest posts them (escaped for Slack by its sender). Pure: a `Period` in, lines out.

Never a customer's words: only counts, reasons and times.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from handlers.service_levels import Target, Targets, short_duration
from handlers.store.service_stats import Period

REASON_NAMES = {
    "customer_asked": "the customer asked for a person",
    "needs_staff_access": "needed staff access",
    "steps_failed": "the steps did not work",
    "unknown_answer": "Sarah did not know the answer",
    "claimed_action": "asked Sarah to act on a device or account",
    "model_unavailable": "the model was unavailable",
}


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0…100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


TOP_TOPICS = 5


def report_lines(
    period: Period,
    targets: Targets,
    *,
    open_handoffs: int | None = None,
    topic_title: Callable[[str], str] = lambda topic: topic,
) -> list[str]:
    """`topic_title` shows a topic (a knowledge-base section id) by its title (bot/: sarah_model's)."""
    since = datetime.fromtimestamp(period.since, UTC).strftime("%Y-%m-%d %H:%M")
    until = datetime.fromtimestamp(period.until, UTC).strftime("%Y-%m-%d %H:%M")
    lines = [f"Support numbers from {since} to {until} UTC"]
    n = period.conversations
    if n:
        share = period.solved_by_sarah / n
        lines.append(f"Conversations: {n}; solved by Sarah without a person: {period.solved_by_sarah} ({share:.0%})")
    else:
        lines.append("Conversations: none")
    if period.handoffs:
        lines.append(f"Handed to the team: {period.handed_off}")
        for reason, count in sorted(period.handoffs.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {count} × {REASON_NAMES.get(reason, reason.replace('_', ' '))}")
    else:
        lines.append("Handed to the team: none")
    if period.topics:
        lines.append("Topics that most often ended in a hand-off (what to write next in the knowledge base):")
        ranked = sorted(period.topics.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOPICS]
        lines += [f"  {count} × {topic_title(topic)}" for topic, count in ranked]
    if open_handoffs is not None:
        lines.append(f"Open hand-offs now: {open_handoffs}")
    first = [c.first_response_seconds for c in period.closed if c.first_response_seconds is not None]
    resolved = [c.resolution_seconds for c in period.closed if c.resolution_seconds is not None]
    lines.append(_times("First response", first, targets.seconds(Target.FIRST_RESPONSE)))
    lines.append(_times("Resolution", resolved, targets.seconds(Target.RESOLUTION)))
    lines.append(_ratings(period.ratings))
    return lines


def _times(name: str, values: list[float], target: float) -> str:
    goal = f"target {short_duration(target)}"
    if not values:
        return f"{name} ({goal}, business hours): no hand-off closed in this period"
    p50, p90 = percentile(values, 50), percentile(values, 90)
    assert p50 is not None and p90 is not None
    met = sum(1 for v in values if v <= target)
    return (
        f"{name} ({goal}, business hours): median {short_duration(p50)}, 90th percentile {short_duration(p90)}, "
        f"{met} of {len(values)} within target ({met / len(values):.0%})"
    )


def _ratings(ratings: dict[int, int]) -> str:
    total = sum(ratings.values())
    if not total:
        return "Ratings: none"
    average = sum(score * count for score, count in ratings.items()) / total
    spread = ", ".join(f"{score}/5: {ratings[score]}" for score in sorted(ratings, reverse=True))
    return f"Ratings: {total}, average {average:.1f}/5 ({spread})"
