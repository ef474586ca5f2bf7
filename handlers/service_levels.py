"""The support team's promises: a first answer and a resolution within targets, in business time.

A hand-off's clock runs only while the team is at work (handlers/business_hours.py). `Targets`
answers what the App Home queue, the reminders, the metrics and the report ask: how much business
time a hand-off has used, how much is left, when it breaches, and whether a target was met.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.settings import ServiceLevelSettings
from handlers.business_hours import BusinessHours


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class Targets:
    hours: BusinessHours
    first_response_seconds: float
    resolution_seconds: float
    warning_seconds: float = 0.0  # how long before a breach the card's thread is reminded

    @classmethod
    def from_settings(cls, s: ServiceLevelSettings) -> Targets:
        return cls(
            BusinessHours.from_settings(s),
            s.first_response_target_minutes * 60,
            s.resolution_target_hours * 3600,
            s.breach_warning_minutes * 60,
        )

    def seconds(self, target: Target) -> float:
        return self.first_response_seconds if target is Target.FIRST_RESPONSE else self.resolution_seconds

    def used(self, escalated_at: float, until: float) -> float:
        """Business seconds from the hand-off to `until`."""
        return self.hours.seconds_between(escalated_at, until)

    def due(self, target: Target, escalated_at: float) -> float:
        """When `target` breaches for a hand-off made at `escalated_at` (epoch seconds)."""
        return self.hours.deadline(escalated_at, self.seconds(target))

    def warn_at(self, target: Target, escalated_at: float) -> float:
        """When the card's thread is reminded that `target` is about to breach."""
        return self.hours.deadline(escalated_at, max(0.0, self.seconds(target) - self.warning_seconds))

    def pending(self, first_response_at: float) -> Target:
        """The target an open hand-off is running against now: its first answer, then its resolution."""
        return Target.RESOLUTION if first_response_at else Target.FIRST_RESPONSE

    def left(self, target: Target, escalated_at: float, now: float) -> float:
        """Business seconds left before `target` breaches (negative: breached that long ago)."""
        return self.seconds(target) - self.used(escalated_at, now)


def short_duration(seconds: float) -> str:
    """ "45 min", "3 h 20 min", "2 d 4 h": how the queue and the digest show business time."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
