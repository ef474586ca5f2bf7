"""Is the worker working? The age of its last successful read, reclaim and lease renewal, and of the
oldest pass in progress (a pass past its model deadline means the deadline did not hold).

A worker whose loops stopped making progress (Redis gone for long, a stuck loop) must show it on
/healthz, or nothing restarts it while the ingress keeps acknowledging messages nobody answers.
Each loop calls `beat`; `/healthz` asks `report` which part is older than its limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    read_seconds: float  # the read loop comes back at least every 0.5 s
    reclaim_seconds: float  # reclaim interval plus a margin
    lease_seconds: float  # a renewal older than the lease means the lease has lapsed
    pass_seconds: float | None = None  # the longest a pass may take (its model calls' deadlines); None: unchecked


class Liveness:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        now = clock()
        self._last = {"read": now, "reclaim": now}
        self._leases: dict[str, float] = {}  # lease token → its last successful renewal
        self._passes: dict[str, float] = {}  # lease token → when its pass in progress started

    def beat(self, part: str) -> None:
        self._last[part] = self._clock()

    def lease_held(self, token: str) -> None:
        """A lease was taken or renewed."""
        self._leases[token] = self._clock()

    def lease_ended(self, token: str) -> None:
        self._leases.pop(token, None)

    def pass_started(self, token: str) -> None:
        self._passes[token] = self._clock()

    def pass_ended(self, token: str) -> None:
        self._passes.pop(token, None)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): each part's age and limit, and which parts are stale."""
        now = self._clock()
        ages = {"read": now - self._last["read"], "reclaim": now - self._last["reclaim"]}
        limits = {"read": self._limits.read_seconds, "reclaim": self._limits.reclaim_seconds}
        if self._leases:  # only while threads are being answered
            ages["lease_renewal"] = now - min(self._leases.values())
            limits["lease_renewal"] = self._limits.lease_seconds
        if self._passes and self._limits.pass_seconds is not None:  # only while a pass runs
            ages["pass"] = now - min(self._passes.values())
            limits["pass"] = self._limits.pass_seconds
        stale = sorted(part for part, age in ages.items() if age > limits[part])
        details: dict[str, Any] = {
            part: {"age_seconds": round(age, 1), "limit_seconds": limits[part]} for part, age in ages.items()
        }
        details["stale"] = stale
        return not stale, details
