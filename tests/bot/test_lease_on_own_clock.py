"""A worker cut off from Redis gives its thread up on its own clock: once its last successful
renewal is nearly a lease old, another worker may hold the thread, so nothing more is sent under it
and its commit writes nothing."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.ops.liveness import Limits, Liveness
from bot.ops.outage import Outage
from bot.worker import _Lease
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Release, StoredTurn

THREAD = ThreadRef("D0CUSTOMER", "1800000000.000100")


class StalledStore:
    """The link to Redis stalls: a renewal never comes back (as a socket that waits its timeout)."""

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        await asyncio.sleep(3_600)
        return True


def lease(seconds: float) -> _Lease:
    liveness = Liveness(Limits(read_seconds=30, reclaim_seconds=30, lease_seconds=seconds))
    return _Lease(StalledStore(), THREAD, "token", seconds, liveness, Outage())  # type: ignore[arg-type]


async def test_a_lease_whose_renewals_stall_is_given_up_before_it_can_expire_in_redis() -> None:
    held = lease(0.6)
    async with held:
        await asyncio.sleep(0.25)
        assert held.held  # renewed recently enough: still ours
        await asyncio.sleep(0.35)  # no renewal came back for a whole lease: another worker may hold it
        assert not held.held


def message(ts: str) -> InboundMessage:
    return InboundMessage(THREAD, ts, "UCUSTOMER", "my hub is offline", Kind.DM)


async def test_a_commit_under_a_lease_someone_else_holds_writes_nothing(redis: Redis) -> None:
    threads = ThreadStore(redis, ttl_seconds=3_600, max_turns=50, lease_seconds=15)
    await threads.accept(message(THREAD.thread_ts), "1-0", "stale", 1.0)
    await redis.set(thread_keys(THREAD).lease, "the-new-holder")  # the stale worker's lease expired and was taken
    batch = (await threads.begin(THREAD, tag="t", now=2.0)).pending

    for kwargs in ({"release": "stale"}, {"lease": "stale"}):  # giving the lease up, or only checking it
        committed = await threads.commit(THREAD, batch, [StoredTurn("assistant", "Restart the hub.")], 3.0, **kwargs)
        assert committed.release is Release.LOST
        assert await threads.history(THREAD) == []  # the turn is not stored twice (the new holder stores it)
        assert [p.message.ts for p in await threads.pending(THREAD)] == [THREAD.thread_ts]  # still to answer
        assert not await redis.sismember(thread_keys(THREAD).answered, THREAD.thread_ts)


async def test_the_check_before_a_send_says_whether_the_lease_is_still_ours(redis: Redis) -> None:
    threads = ThreadStore(redis, ttl_seconds=3_600, max_turns=50, lease_seconds=15)
    await threads.accept(message(THREAD.thread_ts), "1-0", "mine", 1.0)
    assert (await threads.send_check(THREAD, [THREAD.thread_ts], lease="mine")).ours
    await redis.set(thread_keys(THREAD).lease, "someone-else")
    assert not (await threads.send_check(THREAD, [THREAD.thread_ts], lease="mine")).ours
    assert (await threads.send_check(THREAD, [THREAD.thread_ts])).ours  # no token: nothing to check
