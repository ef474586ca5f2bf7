"""A thread's lease renewal says "lost" only when the lease really was lost: a renewal that crosses
the pass's own commit (which gave the lease up) ends quietly with the pass."""

from __future__ import annotations

import asyncio
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
