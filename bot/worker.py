"""Read the inbox stream and answer each thread's messages one pass at a time, in order.

Per entry: `ThreadStore.accept` queues the message in its thread and tries to take the thread's
lease. The worker that holds the lease drains the thread (answering everything queued, in one reply
per pass) and acknowledges the entries it answered, whichever consumer read them. A message whose
thread is busy simply waits in the thread's queue; its entry stays pending in the stream, so if the
lease holder dies the entry is reclaimed after `RECLAIM_IDLE_SECONDS` and answered by someone else.

The worker cannot die quietly. Its loops (read, reclaim, lease renewals) survive Redis outages:
they wait with capped exponential backoff, log once when the outage starts and once when it ends,
and after it re-read the entries delivered to this consumer that the outage may have stranded. A
loop that ends for any other reason ends `run` with `LoopEnded`, and the process with it (so the
orchestrator restarts it). A thread whose pass keeps failing is dead-lettered after
DEAD_LETTER_AFTER_PASSES failed passes (counted in Redis, per entry) instead of looping for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Literal

from redis.exceptions import OutOfMemoryError

from bot.ops.alarms import Alarms, token_refused
from bot.ops.liveness import Limits, Liveness
from bot.ops.outage import Backoff, Outage, is_outage, is_redis_trouble
from bot.stopping import sleep_or_stop
from handlers.messages import ThreadRef
from handlers.outbox import PostsUnknown
from handlers.pipeline import Pipeline
from handlers.store.dead_letters import DeadLetters
from handlers.store.inbox import Entry, Inbox
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Accepted, Pending, Release, Snapshot

log = logging.getLogger(__name__)

# On SIGTERM, threads being answered get this long to finish (a rolling restart loses no answer
# in flight and posts none twice).
SHUTDOWN_GRACE_SECONDS = 8.0

# A pass that fails (Slack hiccup, a bug) is tried again after these pauses, each failure counted
# against its entries; the thread is dead-lettered when the count reaches DEAD_LETTER_AFTER_PASSES,
# or, when that is higher, left to XAUTOCLAIM once these are used up.
RETRY_DELAYS = (0.5, 2.0, 5.0, 10.0)
READ_BLOCK_MS = 500
LOST_LEASE_GRACE_SECONDS = 1.0
# A lease is trusted for this share of its length after its last successful renewal (timed from
# when that renewal was sent), whatever Redis says later: past it, another worker may hold it.
LEASE_TRUSTED_SHARE = 0.8
MAX_RECLAIM_INTERVAL = 10.0


class LoopEnded(RuntimeError):
    """A loop of the worker ended without being asked to: the process must not go on without it."""


def consumer_name() -> str:
    """Unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        inbox: Inbox,
        store: ThreadStore,
        pipeline: Pipeline,
        dead_letters: DeadLetters,
        *,
        concurrency: int,
        read_batch: int,
        lease_seconds: float,
        reclaim_idle_seconds: float,
        coalesce_seconds: float,
        dead_letter_after_passes: int,
        consumer_idle_remove_seconds: float,
        stale_seconds: float = 30.0,
        failed_pass_ttl_seconds: int = 7 * 86_400,
        consumer: str | None = None,
        alarms: Alarms | None = None,
        pass_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`pass_seconds`: the longest a pass may take (its model calls' deadlines and some Slack
        calls); /healthz fails while one runs longer. `clock` times the liveness report."""
        self._inbox = inbox
        self._store = store
        self._pipeline = pipeline
        self._dead = dead_letters
        self._slots = asyncio.Semaphore(concurrency)
        self._read_batch = read_batch
        self._lease_seconds = lease_seconds
        self._reclaim_idle_ms = int(reclaim_idle_seconds * 1000)
        self._reclaim_interval = min(reclaim_idle_seconds / 2, MAX_RECLAIM_INTERVAL)
        self._coalesce = coalesce_seconds
        self._dead_after = dead_letter_after_passes
        self._consumer_idle_ms = int(consumer_idle_remove_seconds * 1000)
        self._failed_pass_ttl = failed_pass_ttl_seconds
        self._alarms = alarms or Alarms()
        self.consumer = consumer or consumer_name()
        self.liveness = Liveness(
            Limits(
                read_seconds=stale_seconds,
                reclaim_seconds=self._reclaim_interval + stale_seconds,
                lease_seconds=lease_seconds,
                pass_seconds=pass_seconds,
            ),
            clock,
        )
        self._outage = Outage()
        self._drains: set[asyncio.Task[None]] = set()
        self.loops: dict[str, asyncio.Task[None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then let the threads in progress finish.

        Raises `LoopEnded` when the read or the reclaim loop ends while `stop` is not set.
        """
        await self._inbox.ensure_group()
        log.info("worker %s reading %s", self.consumer, self._inbox.stream)
        self.loops = {
            "read": asyncio.create_task(self._read_forever(stop), name="worker-read"),
            "reclaim": asyncio.create_task(self._reclaim_forever(stop), name="worker-reclaim"),
        }
        try:
            done, _ = await asyncio.wait(self.loops.values(), return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set():
                task = next(iter(done))
                cause = None if task.cancelled() else task.exception()
                raise LoopEnded(f"the worker's {task.get_name()} loop {_how_it_ended(task)}") from cause
        finally:
            for task in self.loops.values():
                task.cancel()
            await asyncio.gather(*self.loops.values(), return_exceptions=True)
            if self._drains:
                # Their leases are still renewed while they finish; past the grace the orchestrator
                # would kill the process anyway (docker stop waits 10 s).
                grace = max(self._lease_seconds, SHUTDOWN_GRACE_SECONDS)
                _, late = await asyncio.wait(self._drains, timeout=grace)
                for task in late:  # their entries stay pending: another worker takes them over
                    task.cancel()
            try:
                await self._inbox.flush_acknowledgements()
            except Exception as error:  # they stay pending: whoever reclaims them finds them answered
                log.warning("could not acknowledge the last answered entries (%s)", type(error).__name__)

    # -- the loops ---------------------------------------------------------------------------------------

    async def _read_forever(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        stranded = False  # after an outage: entries delivered to us may never have reached us
        while not stop.is_set():
            try:
                if stranded:
                    entries = await self._inbox.own_pending(self.consumer, count=self._read_batch)
                    if entries:
                        log.warning("re-reading %d entries delivered to this worker before the outage", len(entries))
                    await self._accept_all(entries)
                    stranded = False
                entries = await self._inbox.read(self.consumer, count=self._read_batch, block_ms=READ_BLOCK_MS)
                await self._accept_all(entries)
            except Exception as error:
                if not is_redis_trouble(error):
                    raise
                self._outage.failed("reading the inbox", error)
                stranded = True
                await sleep_or_stop(stop, backoff.next_delay())
                continue
            self.liveness.beat("read")
            self._outage.ended()
            backoff.reset()

    async def _reclaim_forever(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        delay = self._reclaim_interval
        while not stop.is_set():
            if await sleep_or_stop(stop, delay):
                return
            try:
                entries = await self._inbox.reclaim(self.consumer, min_idle_ms=self._reclaim_idle_ms)
                if entries:
                    log.warning("reclaimed %d entries left by another worker", len(entries))
                    await self._accept_all(entries)
                removed = await self._inbox.remove_idle_consumers(self.consumer, min_idle_ms=self._consumer_idle_ms)
                if removed:
                    log.info("removed %d idle consumers with nothing pending: %s", len(removed), ", ".join(removed))
            except Exception as error:
                if not is_redis_trouble(error):
                    raise
                self._outage.failed("reclaiming entries", error)
                delay = backoff.next_delay()
                continue
            self.liveness.beat("reclaim")
            self._outage.ended()
            backoff.reset()
            delay = self._reclaim_interval

    async def _accept_all(self, entries: list[Entry]) -> None:
        # In stream order, one at a time: a thread's messages are queued in the order they came.
        for entry in entries:
            if entry.message is None:
                self._inbox.acknowledge_later([entry.entry_id])
                continue
            token = uuid.uuid4().hex
            first: Snapshot | None = None
            asked = time.monotonic()  # the lease, if taken now, runs from here on this worker's clock
            if self._coalesce:  # the thread is read after the pause, when the burst has gathered
                accepted = await self._store.accept(entry.message, entry.entry_id, token, time.time())
            else:  # no pause: the first pass's read goes in the same round trip
                accepted, first = await self._store.accept_and_begin(
                    entry.message, entry.entry_id, token, time.time(), tag=uuid.uuid4().hex
                )
            if accepted in (Accepted.DONE, Accepted.NOT_OURS, Accepted.HELD):
                self._inbox.acknowledge_later([entry.entry_id])
            elif accepted is Accepted.LEASED:
                task = asyncio.create_task(self._drain(entry.message.thread, token, first, asked))
                self._drains.add(task)
                task.add_done_callback(self._drain_ended)

    # -- one thread --------------------------------------------------------------------------------------

    async def _drain(
        self, thread: ThreadRef, token: str, first: Snapshot | None = None, taken_at: float | None = None
    ) -> None:
        """Answer the thread until its queue is empty, holding (and renewing) its lease. `first`:
        the first pass's read, made with the lease; `taken_at`: when the lease was asked for
        (monotonic clock)."""
        lease = _Lease(self._store, thread, token, self._lease_seconds, self.liveness, self._outage, taken_at=taken_at)
        async with lease, self._slots:
            if self._coalesce:
                await asyncio.sleep(self._coalesce)  # let a burst of quick messages gather
            failures = 0
            backoff = Backoff()
            while lease.held:
                try:
                    read, first = first, None  # every later pass (and a retry) reads the thread again
                    self.liveness.pass_started(token)
                    try:
                        answered = await self._pipeline.answer_pending(
                            thread, still_ours=lambda: lease.held, lease=token, first=read
                        )
                    finally:
                        self.liveness.pass_ended(token)
                    self._inbox.acknowledge_later(answered.entry_ids)
                    failures = 0
                    backoff.reset()
                    released = answered.release or await self._store.release_if_idle(thread, token)
                    if released is not Release.MORE:
                        lease.held = False
                    first = answered.next  # the commit read the thread for the next pass
                except Exception as error:  # one thread's failure must not stop the worker
                    if is_outage(error):  # Redis is away: not the message's fault, wait for it
                        self._outage.failed("answering a thread", error)
                        await asyncio.sleep(backoff.next_delay())
                        await self._check_lease(lease)  # another worker may have it after a long outage
                        continue
                    failures += 1
                    verdict = await self._after_failed_pass(thread, error, failures, lambda: lease.held, token)
                    if verdict == "give up":
                        return  # entries stay pending: XAUTOCLAIM brings them back later
                    if verdict == "dead-lettered":
                        failures = 0
                    else:
                        await asyncio.sleep(RETRY_DELAYS[failures - 1])

    async def _after_failed_pass(
        self, thread: ThreadRef, error: Exception, failures: int, still_ours: Callable[[], bool], token: str = ""
    ) -> Literal["retry", "dead-lettered", "give up"]:
        """Count the failed pass on the thread's entries; dead-letter them at the limit (`token`: the
        thread's lease, checked by the hand-off that may follow).

        "give up": this worker leaves the thread for now (XAUTOCLAIM brings it back later).
        """
        refused = token_refused(error)
        if refused and self._alarms.raise_alarm(
            "slack_token_refused", f"Slack refused the bot token ({refused}): passes fail until it is replaced"
        ):
            log.error("Slack refused SLACK_BOT_TOKEN (%s): no answer can be posted until it is replaced", refused)
        if isinstance(error, OutOfMemoryError) and self._alarms.raise_alarm(
            "redis_refuses_writes", "Redis refused a write (maxmemory reached)"
        ):
            log.error("Redis is full (maxmemory): passes fail until memory is freed or maxmemory raised")
        try:
            # a message the ingress queued that no worker has read yet has no entry: not part of
            # this failure (its own entry brings it back, counted from then on)
            batch = [p for p in await self._store.pending(thread) if p.entry_id]
            passes = await self._inbox.count_failed_pass([p.entry_id for p in batch], ttl_seconds=self._failed_pass_ttl)
        except Exception as counting:
            log.warning("could not count a failed pass of thread %s (%s)", thread.key, type(counting).__name__)
            return "give up"
        log.warning(
            "a pass of thread %s failed (%s): %d of %d failed passes before dead-lettering",
            thread.key,
            type(error).__name__,
            passes,
            self._dead_after,
        )
        if batch and passes >= self._dead_after:
            try:
                await self._dead_letter(thread, batch, error, passes, still_ours, token)
            except Exception as moving:  # the entries stay pending, their count too: moved next time
                log.warning("could not dead-letter thread %s (%s)", thread.key, type(moving).__name__)
                return "give up"
            return "dead-lettered"
        if isinstance(error, PostsUnknown):
            # Slack refused the lookup (conversations.replies allows about one call a minute): look
            # again when XAUTOCLAIM brings the entries back, not in a burst of quick retries.
            return "give up"
        return "retry" if failures <= len(RETRY_DELAYS) else "give up"

    async def _dead_letter(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        error: Exception,
        passes: int,
        still_ours: Callable[[], bool],
        token: str = "",
    ) -> None:
        # Out of the thread's queue first: a crash before the move leaves the entries pending in the
        # stream, so they come back, fail again and are moved then. Never the other way round.
        await self._dead.unqueue(thread, batch)
        moved = await self._dead.bury(thread.key, batch, error, passes)
        log.error(
            "thread %s: %d messages moved to the dead-letter stream %s after %d failed passes (%s)",
            thread.key,
            moved,
            self._dead.stream,
            passes,
            type(error).__name__,
        )
        try:
            await self._pipeline.dead_lettered(thread, batch, still_ours, lease=token)
        except Exception as apology_error:  # even then the messages stay dead-lettered: never loop
            log.warning("could not apologise in thread %s (%s)", thread.key, type(apology_error).__name__)

    async def _check_lease(self, lease: _Lease) -> None:
        """Before answering again after an outage: is the lease still ours? (Unknown while Redis is away.)"""
        with contextlib.suppress(Exception):
            if not await self._store.renew_lease(lease.thread, lease.token):
                log.warning("lease of thread %s lost during the outage", lease.thread.key)
                lease.held = False

    def _drain_ended(self, task: asyncio.Task[None]) -> None:
        self._drains.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("answering a thread ended unexpectedly", exc_info=task.exception())


class _Lease:
    """Keeps a thread's lease alive while it is being answered; `held` turns False if it is lost.

    The lease is lost when Redis says so, and also on this worker's own clock: when no renewal has
    succeeded for LEASE_TRUSTED_SHARE of the lease (the link to Redis stalled), the lease may have
    expired in Redis and another worker may be answering the thread, so nothing more is sent under
    it, even if Redis answers again later."""

    def __init__(
        self,
        store: ThreadStore,
        thread: ThreadRef,
        token: str,
        seconds: float,
        liveness: Liveness,
        outage: Outage,
        *,
        taken_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self.thread, self.token, self._seconds = store, thread, token, seconds
        self._liveness, self._outage = liveness, outage
        self._clock = clock
        self._renewed_at = clock() if taken_at is None else taken_at
        self._lost = False
        self._ended = False  # the pass is over: renew no more
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        silent = self._clock() - self._renewed_at
        if not self._lost and silent >= self._seconds * LEASE_TRUSTED_SHARE:
            self._lost = True
            log.warning("lease of thread %s given up: no renewal succeeded for %.1f s", self.thread.key, silent)
        return not self._lost

    @held.setter
    def held(self, value: bool) -> None:
        self._lost = self._lost or not value

    async def __aenter__(self) -> _Lease:
        self._liveness.lease_held(self.token)
        self._task = asyncio.create_task(self._renew())
        return self

    async def __aexit__(self, *exc: object) -> None:
        # The cancel below may be lost: on Python 3.11 redis-py returns the reply of a command whose
        # send had just finished when the cancel came (`asyncio.wait_for`). So the renewal loop is
        # also told to stop, and the lease leaves the liveness report only once that loop is over:
        # a reply that comes back late neither renews the lease again nor reports it as held.
        self._ended = True
        try:
            if self._task:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        finally:
            self._liveness.lease_ended(self.token)

    async def _renew(self) -> None:
        backoff = Backoff()
        delay = self._seconds / 3
        while self.held and not self._ended:
            await asyncio.sleep(delay)
            sent_at = self._clock()
            try:
                renewed = await self._store.renew_lease(self.thread, self.token)
            except Exception as error:  # keep renewing: a lapsed lease is noticed when Redis answers
                if is_redis_trouble(error):
                    self._outage.failed("renewing a thread's lease", error)
                else:
                    log.warning("could not renew the lease of thread %s (%s)", self.thread.key, type(error).__name__)
                delay = min(self._seconds / 3, backoff.next_delay())
                continue
            if self._ended:
                return
            backoff.reset()
            delay = self._seconds / 3
            if renewed and self.held:  # a renewal that comes back too late does not bring it back
                self._renewed_at = sent_at
            if not renewed:
                self.held = False  # send nothing more under it
                # A pass whose commit gave the lease up a moment ago ends now and cancels this task
                # before the line: only a lease really lost (expired, taken over) is reported.
                await asyncio.sleep(LOST_LEASE_GRACE_SECONDS)
                log.warning("lease of thread %s lost", self.thread.key)
                return
            self._liveness.lease_held(self.token)


def _how_it_ended(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "was cancelled"
    error = task.exception()
    return f"failed with {type(error).__name__}" if error else "returned"
