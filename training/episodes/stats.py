"""Rates with their 95 % intervals, pass^k, and whether two rates differ beyond noise.

Wilson's interval behaves at 0 % and 100 % and with a few dozen tasks, where the normal
approximation does not; the difference of two rates uses Newcombe's method built from the two
Wilson intervals. pass^k is τ-bench's consistency measure: the chance that k tries of a task all pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959964


def wilson(successes: float, total: int, z: float = Z95) -> tuple[float, float]:
    """The 95 % Wilson score interval of `successes` out of `total` ((0, 1) when nothing was counted)."""
    if total <= 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A rate over `total` tasks with its 95 % interval."""

    value: float
    total: int
    low: float
    high: float

    @classmethod
    def of(cls, successes: float, total: int) -> Estimate:
        low, high = wilson(successes, total)
        return cls(successes / total if total else 0.0, total, low, high)

    def __str__(self) -> str:
        if not self.total:
            return "n/a"
        return f"{self.value:.0%} [{self.low:.0%}–{self.high:.0%}]"


def pass_hat_k(successes: int, tries: int, k: int) -> float:
    """τ-bench's pass^k for one task: C(c, k) / C(n, k), the chance that k of its n tries all passed."""
    if not 1 <= k <= tries:
        raise ValueError(f"k must be between 1 and the number of tries ({tries}), not {k}")
    return math.comb(successes, k) / math.comb(tries, k)


def pass_hat_k_over(per_task: Sequence[tuple[int, int]], k: int) -> Estimate:
    """pass^k averaged over tasks given as (successes, tries); the interval counts tasks, not tries."""
    values = [pass_hat_k(c, n, k) for c, n in per_task]
    return Estimate.of(sum(values), len(values))


def difference(a: Estimate, b: Estimate) -> tuple[float, float, float]:
    """b − a with Newcombe's 95 % interval (hybrid score method, from the two Wilson intervals)."""
    d = b.value - a.value
    low = d - math.sqrt((b.value - b.low) ** 2 + (a.high - a.value) ** 2)
    high = d + math.sqrt((b.high - b.value) ** 2 + (a.value - a.low) ** 2)
    return d, low, high


def only_noise(a: Estimate, b: Estimate) -> bool:
    """True when the interval of b − a includes 0: on these tasks A and B cannot be told apart."""
    _, low, high = difference(a, b)
    return low <= 0.0 <= high
