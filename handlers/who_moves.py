"""Who can move a thread away from Sarah: the customer asking for a person, or a support member.

In a channel thread anyone may write. Only the thread's customer can ask for a person or count a
failure (`customers_own`), and only a member of the support team takes a thread over by writing in
it. Both are checked right before anything is sent (`WhoMoves.people_are_coming`): a draft is never
posted over a hand-off request or an agent's line that arrived while the model was writing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.intents import wants_human
from handlers.messages import Kind, ThreadRef
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending


async def nobody_is_support(user: str) -> bool:
    """Where there is no support team (the local chat), nobody's message is an agent's."""
    return False


def customers_own(thread: ThreadRef, batch: list[Pending], customer: str) -> list[Pending]:
    """The messages the thread's customer wrote (in a DM, or a thread whose customer is not recorded,
    all of them): only these ask for a person or count as failures. Bystanders in a channel thread
    are answered, but cannot hand off, count against, or silence someone else's conversation."""
    if thread.is_dm or not customer:
        return batch
    return [p for p in batch if p.message.user == customer]


class WhoMoves:
    """Reads a batch (or the queue) for the people who take a thread from Sarah."""

    def __init__(self, store: ThreadStore, is_support: Callable[[str], Awaitable[bool]]) -> None:
        self._store = store
        self._is_support = is_support

    async def support_members(self, thread: ThreadRef, batch: list[Pending], customer: str) -> set[str]:
        """Support-team members among the authors (channel threads only: agents cannot see DMs).

        The thread's own customer never counts: a support member who asks Sarah something is a
        customer in that thread, not an agent taking it over.
        """
        if thread.is_dm:
            return set()
        return {
            p.message.user
            for p in batch
            if p.message.kind is not Kind.FEEDBACK
            and p.message.user != customer
            and not p.message.external  # Slack Connect: someone from another org is never support
            and await self._is_support(p.message.user)
        }

    async def people_are_coming(self, thread: ThreadRef, customer: str, pending: list[Pending] | None = None) -> bool:
        """Checked right before a send: is a hand-off request or an agent's line waiting in the queue?
        (`pending`: the queue as just read; read here when None.)"""
        if pending is None:
            pending = await self._store.pending(thread)
        own = customers_own(thread, [p for p in pending if p.message.kind is not Kind.FEEDBACK], customer)
        return any(wants_human(p.message.text) for p in own) or bool(
            await self.support_members(thread, pending, customer)
        )
