"""Living through a Redis outage: which errors mean "Redis is away", how long to wait, what to log.

redis-py raises its own exceptions (`redis.exceptions.ConnectionError`, `TimeoutError`, both
`RedisError`), not Python's builtins, so a loop that catches the builtins dies on the first Redis
restart. `is_outage` names the errors that say nothing about the message being handled (the
server is unreachable, loading, read-only during a failover, a cluster slot moving), so a pass that
fails with one is retried, never counted against the message. `Outage` logs one line when an outage
starts and one when it ends, with its duration, however many calls failed in between.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from redis.exceptions import (
    ClusterDownError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,  # includes BusyLoadingError and MaxConnectionsError
    RedisTimeoutError,
    ReadOnlyError,  # a replica promoted a moment ago, or a failover in progress
    ClusterDownError,
    TryAgainError,
    RedisClusterException,
    OSError,  # the builtin ConnectionError / TimeoutError of a socket that redis-py did not wrap
)


def is_outage(error: BaseException) -> bool:
    """True when `error` says Redis is (briefly) unreachable, not that the request was wrong."""
    return isinstance(error, _OUTAGE_ERRORS)


def is_redis_trouble(error: BaseException) -> bool:
    """Any error from talking to Redis: what the worker's loops survive by waiting."""
    return isinstance(error, RedisError) or is_outage(error)


class Backoff:
    """Capped exponential delays with jitter: 0.1 s, 0.2 s, 0.4 s … up to `cap`."""

    def __init__(self, *, base: float = 0.1, cap: float = 5.0) -> None:
        self._base, self._cap = base, cap
        self._failures = 0

    def next_delay(self) -> float:
        delay = min(self._cap, self._base * 2**self._failures)
        self._failures += 1
        return float(delay * random.uniform(0.5, 1.0))

    def reset(self) -> None:
        self._failures = 0


class Outage:
    """One Redis outage as the worker sees it: a line when it starts, a line when it ends.

    Every loop reports to the same `Outage`, so an outage is one pair of lines, not a line per
    retry per loop. `ended` returns True once, on the first success after a failure (the caller
    then looks for work stranded by the outage).
    """

    def __init__(self, who: str = "worker", clock: Callable[[], float] = time.monotonic) -> None:
        self._who = who
        self._clock = clock
        self._since: float | None = None
        self._failed_calls = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, where: str, error: BaseException) -> None:
        self._failed_calls += 1
        if self._since is None:
            self._since = self._clock()
            log.error(
                "Redis unavailable (%s while %s): %s retrying with backoff",
                type(error).__name__,
                where,
                self._who,
            )

    def ended(self) -> bool:
        if self._since is None:
            return False
        seconds = self._clock() - self._since
        log.warning(
            "Redis is back after %.1f s: %s going on",
            seconds,
            self._who,
            extra={"failed_calls": self._failed_calls},
        )
        self._since, self._failed_calls = None, 0
        return True
