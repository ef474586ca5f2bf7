"""Read the inbox stream and answer each thread's messages one pass at a time, in order.

Per entry: `ThreadStore.accept` queues the message in its thread and tries to take the thread's
lease. The worker that holds the lease drains the thread (answering everything queued, in one reply
per pass) and acknowledges the entries it answered, whichever consumer read them. A message whose
thread is busy simply waits in the thread's queue; its entry stays pending in the stream, so if the
lease holder dies the entry is reclaimed after `RECLAIM_IDLE_SECONDS` and answered by someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from bot.inbox import Entry, Inbox
from handlers.messages import ThreadRef
from handlers.pipeline import Pipeline
from handlers.thread_store import Accepted, Release, ThreadStore

log = logging.getLogger(__name__)

# A pass that fails (Slack or Redis hiccup) is tried again this many times, after these pauses,
# before the thread is left to XAUTOCLAIM.
RETRY_DELAYS = (0.5, 2.0, 5.0)


def consumer_name() -> str:
    """Unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        inbox: Inbox,
        store: ThreadStore,
        pipeline: Pipeline,
        *,
        concurrency: int,
        read_batch: int,
        lease_seconds: float,
        reclaim_idle_seconds: float,
        coalesce_seconds: float,
        consumer: str | None = None,
    ) -> None:
        self._inbox = inbox
        self._store = store
        self._pipeline = pipeline
        self._slots = asyncio.Semaphore(concurrency)
        self._read_batch = read_batch
        self._lease_seconds = lease_seconds
        self._reclaim_idle_ms = int(reclaim_idle_seconds * 1000)
        self._coalesce = coalesce_seconds
        self.consumer = consumer or consumer_name()
        self._drains: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then let the threads in progress finish."""
        await self._inbox.ensure_group()
        log.info("worker %s reading %s", self.consumer, self._inbox.stream)
        reclaimer = asyncio.create_task(self._reclaim_forever(stop))
        try:
            while not stop.is_set():
                try:
                    entries = await self._inbox.read(self.consumer, count=self._read_batch, block_ms=500)
                    await self._accept_all(entries)
                except (ConnectionError, OSError, TimeoutError) as error:
                    log.error("Redis unavailable while reading the inbox (%s); retrying", type(error).__name__)
                    await _sleep_or_stop(stop, 1.0)
        finally:
            reclaimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reclaimer
            if self._drains:
                await asyncio.wait(self._drains, timeout=self._lease_seconds)

    async def _reclaim_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_or_stop(stop, self._reclaim_idle_ms / 2000)
            try:
                entries = await self._inbox.reclaim(self.consumer, min_idle_ms=self._reclaim_idle_ms)
            except (ConnectionError, OSError, TimeoutError) as error:
                log.error("Redis unavailable while reclaiming (%s)", type(error).__name__)
                continue
            if entries:
                log.warning("reclaimed %d entries left by another worker", len(entries))
                await self._accept_all(entries)

    async def _accept_all(self, entries: list[Entry]) -> None:
        # In stream order, one at a time: a thread's messages are queued in the order they came.
        for entry in entries:
            if entry.message is None:
                await self._inbox.done([entry.entry_id])
                continue
            token = uuid.uuid4().hex
            accepted = await self._store.accept(entry.message, entry.entry_id, token, time.time())
            if accepted in (Accepted.DONE, Accepted.NOT_OURS, Accepted.HELD):
                await self._inbox.done([entry.entry_id])
            elif accepted is Accepted.LEASED:
                task = asyncio.create_task(self._drain(entry.message.thread, token))
                self._drains.add(task)
                task.add_done_callback(self._drains.discard)

    async def _drain(self, thread: ThreadRef, token: str) -> None:
        """Answer the thread until its queue is empty, holding (and renewing) its lease."""
        lease = _Lease(self._store, thread, token, self._lease_seconds)
        async with lease, self._slots:
            if self._coalesce:
                await asyncio.sleep(self._coalesce)  # let a burst of quick messages gather
            failures = 0
            while lease.held:
                try:
                    answered = await self._pipeline.answer_pending(thread, still_ours=lambda: lease.held)
                    await self._inbox.done(answered.entry_ids)
                    failures = 0
                except Exception:  # one thread's failure must not stop the worker
                    failures += 1
                    if failures > len(RETRY_DELAYS):
                        log.exception("could not answer thread %s; its messages stay queued", thread.key)
                        return  # entries stay pending: XAUTOCLAIM brings them back later
                    log.warning("answering thread %s failed; trying again", thread.key, exc_info=True)
                    await asyncio.sleep(RETRY_DELAYS[failures - 1])
                    continue
                if await self._store.release_if_idle(thread, token) is not Release.MORE:
                    lease.held = False


class _Lease:
    """Keeps a thread's lease alive while it is being answered; `held` turns False if it is lost."""

    def __init__(self, store: ThreadStore, thread: ThreadRef, token: str, seconds: float) -> None:
        self._store, self._thread, self._token, self._seconds = store, thread, token, seconds
        self.held = True
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Lease:
        self._task = asyncio.create_task(self._renew())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _renew(self) -> None:
        while self.held:
            await asyncio.sleep(self._seconds / 3)
            try:
                if not await self._store.renew_lease(self._thread, self._token):
                    log.warning("lease of thread %s lost", self._thread.key)
                    self.held = False
            except (ConnectionError, OSError, TimeoutError):
                log.error("could not renew the lease of thread %s", self._thread.key)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
