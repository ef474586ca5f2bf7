"""A thread's lease renewal says "lost" only when the lease really was lost: a renewal that crosses
the pass's own commit (which gave the lease up) ends quietly with the pass."""

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
