"""What Sarah reads of a channel thread she is mentioned in for the first time, as an interface.

A customer who @mentions Sarah halfway down a thread expects her to know what was said above. The
thread is read once, before her first answer there, and stored as turns in Redis; from then on Redis
is the thread's memory, as for every other thread (Slack rate-limits reading threads hard).
"""

from __future__ import annotations

from typing import Protocol

from handlers.messages import ThreadRef
from handlers.store.values import StoredTurn


class ThreadReader(Protocol):
    async def earlier(self, thread: ThreadRef, *, before: str) -> list[StoredTurn]:
        """The people's messages in `thread` older than `before`, oldest first (none if it cannot be read)."""
        ...
