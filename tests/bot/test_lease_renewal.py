"""A thread's lease renewal says "lost" only when the lease really was lost: a renewal that crosses
the pass's own commit (which gave the lease up) ends quietly with the pass. And a renewal that comes
back after its pass ended (its cancel lost on the way) neither renews the lease nor keeps it on /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bot.ops.liveness import Limits, Liveness
from bot.ops.outage import Outage
from bot.worker import _Lease
from handlers.messages import ThreadRef

THREAD = ThreadRef("D0CUSTOMER", "1800000000.000100")


class RefusingStore:
    """Every renewal finds the lease gone."""

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        return False


def lease(seconds: float) -> _Lease:
    liveness = Liveness(Limits(read_seconds=30, reclaim_seconds=30, lease_seconds=seconds))
    return _Lease(RefusingStore(), THREAD, "token", seconds, liveness, Outage())  # type: ignore[arg-type]


async def test_a_renewal_that_crosses_the_passs_own_release_is_not_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.worker")
    held = lease(0.15)
    async with held:
        await asyncio.sleep(0.1)  # the renewal (every 0.05 s) finds the lease gone...
        assert not held.held  # ...and nothing more is sent under it
    assert "lost" not in caplog.text  # the pass ended within the grace: it had given the lease up itself


async def test_a_lease_lost_while_the_pass_goes_on_is_reported(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.worker.LOST_LEASE_GRACE_SECONDS", 0.1)
    caplog.set_level(logging.WARNING, logger="bot.worker")
    async with lease(0.15):
        await asyncio.sleep(0.4)
    assert f"lease of thread {THREAD.key} lost" in caplog.text


class LateReplyStore:
    """A renewal's reply comes with the pass's end: the renewal returns and the cancellation is lost,
    as in the Redis client under Python 3.11 (its asyncio.wait_for returns a reply that came with one)."""

    def __init__(self) -> None:
        self.in_flight = asyncio.Event()

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        self.in_flight.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3_600)
        return True


async def test_a_pass_ends_even_when_the_renewal_in_flight_loses_its_cancellation() -> None:
    store = LateReplyStore()
    liveness = Liveness(Limits(read_seconds=30, reclaim_seconds=30, lease_seconds=0.15))
    held = _Lease(store, THREAD, "token", 0.15, liveness, Outage())  # type: ignore[arg-type]

    async def one_pass() -> None:
        async with held:
            await store.in_flight.wait()  # the pass ends while a renewal is in flight

    ending = asyncio.create_task(one_pass())
    done, _ = await asyncio.wait({ending}, timeout=5)
    ending.cancel()
    assert ending in done  # else the lease would be renewed for ever and the thread never answered again


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RenewalOutlivingItsCancel:
    """The first renewal comes back with its reply even though the pass cancelled it on the way out:
    redis-py sends a command under `asyncio.wait_for`, which on Python 3.11 returns the result of a
    send that had just finished when the cancel came. By then the pass has given the lease back."""

    def __init__(self) -> None:
        self.sent = asyncio.Event()
        self.renewals = 0

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        self.renewals += 1
        if self.renewals > 1:
            return False  # the pass's commit gave the lease up
        self.sent.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()  # the reply, cut short by the cancel, which goes no further
        return True


async def test_a_renewal_that_outlives_its_cancel_leaves_the_worker_healthy() -> None:
    clock = Clock()
    liveness = Liveness(Limits(read_seconds=30, reclaim_seconds=30, lease_seconds=0.3), clock)
    store = RenewalOutlivingItsCancel()
    async with _Lease(store, THREAD, "token", 0.3, liveness, Outage(), clock=clock):  # type: ignore[arg-type]
        await store.sent.wait()  # the pass ends while a renewal is on its way
    clock.now += 5  # long after the pass: no lease of it is left to renew
    healthy, details = liveness.report()
    assert healthy, details  # /healthz would answer 503 for a lease nobody holds any more
    assert store.renewals == 1  # and nothing renewed the lease after its pass ended
