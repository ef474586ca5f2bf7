"""Button presses, `/sarah` commands and modal submissions are acknowledged first, their work done after.

Slack shows the person an error when an interaction is not acknowledged within 3 seconds. Sarah's
Bolt app sends its acknowledgement only when a listener returns (`process_before_response`, so that a
message that could not be queued is answered 500 and retried), and the work behind a press can take
several Web API calls. So such a listener acknowledges, hands its work to `AfterAck.run` and returns:
Slack has its answer at once, and the work runs as a task of its own.

This is the pattern of Bolt's lazy listeners, without their machinery: Bolt deep-copies the request
for a lazy listener, and the request's Web API client shares Sarah's HTTP session (connection pool,
locks), which cannot be copied. `AfterAck` keeps the tasks, so that a stopping Sarah finishes them
before it closes Redis and that session, and makes a failure known to the person who pressed or
typed: Slack already showed them success, so nothing may fail silently. Work under the same key (a
thread's buttons, one person's commands) runs in the order Slack delivered it, as it did while
each press held its acknowledgement: a Resolve pressed while the Claim's work is still under way
waits for it, instead of overtaking it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

FAILED = "Sorry, something went wrong on my side, so that didn't go through. Please try again in a moment."

Tell = Callable[[str], Awaitable[Any]]  # shows a text to the person who pressed or typed, for their eyes only


class AfterAck:
    """The work of interactions Slack has been answered for, each an asyncio task kept until it ends."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # key → the latest work under it

    def run(self, work: Coroutine[Any, Any, None], tell: Tell, *, key: str, failed: str = FAILED) -> None:
        """Start `work` once the earlier work under `key` has ended; if it fails, log why and `tell`
        the person `failed`."""
        task = asyncio.create_task(_in_turn(self._last.get(key), work, tell, failed))
        # the event loop keeps only weak references to tasks: one nobody holds may vanish mid-way
        self._tasks.add(task)
        self._last[key] = task
        task.add_done_callback(lambda done: self._ended(key, done))

    def _ended(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(key) is task:
            del self._last[key]

    async def drain(self) -> None:
        """Wait for the work of every interaction acknowledged already (Sarah is stopping)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _in_turn(before: asyncio.Task[None] | None, work: Coroutine[Any, Any, None], tell: Tell, failed: str) -> None:
    if before is not None:
        await asyncio.wait([before])  # it ends, whatever its outcome: it tells its own person
    try:
        await work
    except Exception:
        log.exception("the work of an acknowledged Slack interaction failed")
        try:
            await tell(failed)
        except Exception as error:  # Slack unreachable too: the log line above is all that is left
            log.warning("could not tell the person that their request failed: %s", type(error).__name__)
