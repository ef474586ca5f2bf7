"""What the pipeline and the stores tell whoever watches them: the hooks each takes when it is built.

A part calls its hooks right where the event happens (a pass, a conversation's first message, an
acknowledged entry, a buried batch, a posted card, a change of hands), so reading the part shows
every call it makes. The runtime passes observers that keep the metrics, traces, the support team's
numbers and App Home (bot/ops/observers.py); every other caller (the tests, tools) gets `NO_HOOKS`,
which does nothing. A hook only watches: it never changes what the part does, and an observer
catches its own errors, so a lost count never fails a pass or a change of hands.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol

from handlers.messages import ThreadRef
from handlers.thread_state import Owner, ServiceTimes


@dataclass(slots=True)
class PassSeen:
    """What the pipeline reports of a pass to the hook around it, once the pass has answered."""

    entries_answered: int = 0


class PipelineHooks(Protocol):
    def around_pass(self, thread: ThreadRef) -> AbstractContextManager[PassSeen]:
        """Entered for the whole of one pass over `thread` (its span, the passes in progress)."""
        ...

    async def conversation_started(self, thread: ThreadRef) -> None:
        """A customer's first message of a conversation (or of a fresh episode) is being answered."""
        ...


class InboxHooks(Protocol):
    def acknowledged(self, entry_ids: list[str]) -> None:
        """`entry_ids` were answered: acknowledged now, or with the worker's next read (counted once, now)."""
        ...


class DeadLetterHooks(Protocol):
    def buried(self, thread_key: str, moved: int) -> None:
        """`moved` messages of the thread were set aside in the dead-letter stream."""
        ...


class ThreadStoreHooks(Protocol):
    async def card_posted(self, thread: ThreadRef) -> None:
        """The thread's hand-off card is in the support channel (its link is recorded)."""
        ...


class OwnershipHooks(Protocol):
    async def hands_changed(
        self, thread: ThreadRef, previous: Owner, to: Owner, *, by: str, now: float, reason: str
    ) -> None:
        """The thread moved from `previous` to `to` (`reason`: the hand-off's, when one was given)."""
        ...

    async def person_answered(self, thread: ThreadRef, times: ServiceTimes, *, by: str, now: float) -> None:
        """A person from the team answered the customer for the first time in this hand-off."""
        ...

    async def conversation_unsolved(self, thread: ThreadRef) -> None:
        """The customer said an answer did not help, a first time in this thread."""
        ...


class NoHooks:
    """Every hook, doing nothing: what a part built without observers calls."""

    def around_pass(self, thread: ThreadRef) -> AbstractContextManager[PassSeen]:
        return nullcontext(PassSeen())

    async def conversation_started(self, thread: ThreadRef) -> None:
        pass

    def acknowledged(self, entry_ids: list[str]) -> None:
        pass

    def buried(self, thread_key: str, moved: int) -> None:
        pass

    async def card_posted(self, thread: ThreadRef) -> None:
        pass

    async def hands_changed(
        self, thread: ThreadRef, previous: Owner, to: Owner, *, by: str, now: float, reason: str
    ) -> None:
        pass

    async def person_answered(self, thread: ThreadRef, times: ServiceTimes, *, by: str, now: float) -> None:
        pass

    async def conversation_unsolved(self, thread: ThreadRef) -> None:
        pass


NO_HOOKS = NoHooks()
