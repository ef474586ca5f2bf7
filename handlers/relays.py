"""While people have a thread: the lines that pass between the customer and the support team.

An agent's line in a hand-off card's thread goes to the customer's DM (`relay_from_support`); a
customer's line in that DM goes to the card's thread (`hold_for_people`), and Sarah stays silent;
a support member who writes in a channel thread takes it over (`agents_wrote`). Every line is posted
only while the thread's lease is the pass's own: the lease's new holder passes on the rest, once.
The pass decides who has the thread (handlers/pipeline.py); the hand-off itself is handlers/handoff.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from handlers.answered import Answered
from handlers.handoff import Handoff
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.model_turns import customer_turns
from handlers.notes import is_internal
from handlers.outbox import CardRef, Outbox
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending, Release, StoredTurn
from handlers.thread_state import ThreadState

log = logging.getLogger(__name__)

NOT_SUPPORT = (
    "Only the support team can reply to the customer here: your message was not sent to them, "
    "and the conversation stays with whoever has it."
)
KEPT_INTERNAL = (
    "Kept internal: your message has a note line (`note:`, `internal:`, `[private]`, :lock: …), so none "
    "of it was sent to the customer. Send what the customer should read as a message of its own."
)


class Relays:
    """Passes lines between the customer and the support team, and stores them once."""

    def __init__(
        self,
        store: ThreadStore,
        ownership: OwnershipStore,
        handoff: Handoff,
        outbox: Outbox,
        is_support: Callable[[str], Awaitable[bool]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._handoff = handoff
        self._outbox = outbox
        self._is_support = is_support
        self._clock = clock

    async def hold_for_people(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        still_ours: Callable[[], bool] = lambda: True,
        *,
        lease: str = "",
    ) -> Answered:
        """Sarah stays silent; in a DM she passes the customer's lines to the card's thread (while the
        lease is the pass's own: its next holder passes them on otherwise, once)."""
        ref = state.card
        if thread.is_dm and ref is not None:
            for pending in batch:
                message = pending.message
                if message.kind is Kind.FEEDBACK or not (message.text.strip() or message.has_files):
                    continue
                if not await self._lease_held(thread, still_ours, lease):
                    return Answered([], release=Release.LOST)
                await self._outbox.customer_said(
                    ref, state.customer or message.user, message.text, has_files=message.has_files
                )
        committed = await self._store.commit(thread, batch, customer_turns(batch), self._clock(), lease=lease)
        return Answered.of(batch, committed=committed)

    async def agents_wrote(
        self, thread: ThreadRef, batch: list[Pending], agents: set[str], *, lease: str = ""
    ) -> Answered:
        """A support member posted in a channel thread: it is theirs; Sarah stays out of it."""
        for agent in sorted(agents):
            await self._handoff.take_over(thread, agent)
        first = next(p.message.user for p in batch if p.message.user in agents)
        await self._ownership.person_answered(thread, first, self._clock())
        turns = [
            StoredTurn("agent" if p.message.user in agents else "user", p.message.text, p.message.ts, p.message.user)
            for p in batch
            if p.message.kind is not Kind.FEEDBACK
        ]
        committed = await self._store.commit(thread, batch, turns, self._clock(), lease=lease)
        return Answered.of(batch, committed=committed)

    async def relay_from_support(
        self,
        card_thread: ThreadRef,
        relay_to: str,
        batch: list[Pending],
        still_ours: Callable[[], bool] = lambda: True,
        *,
        lease: str = "",
    ) -> Answered:
        """Agents write in the card's thread; Sarah passes their lines to the customer's DM.

        Only support-team members speak for ZenNest: anyone else is told so privately and takes
        nothing over. A message with a note line anywhere (handlers/notes.py) stays internal, whole.
        The agent gets a private copy of what the customer received; a file is announced to the
        agent, never dropped silently. Each line goes out only while the card thread's lease is the
        pass's own (`lease`); once it is not, nothing more is posted or recorded: the lease's new
        holder relays the batch and stores its lines, once.
        """
        channel, _, thread_ts = relay_to.partition(":")
        customer_thread = await self._store.locate(ThreadRef(channel, thread_ts))
        relayed: list[StoredTurn] = []
        for pending in batch:
            message = pending.message
            if message.kind is Kind.FEEDBACK:
                continue
            if not await self._lease_held(card_thread, still_ours, lease):
                log.warning(
                    "the card thread's lease moved on while relaying; its new holder relays the rest",
                    extra={"thread_key": card_thread.key},
                )
                return Answered([], release=Release.LOST)
            if await self._relay_line(card_thread, customer_thread, message):
                relayed.append(StoredTurn("agent", message.text, message.ts, message.user))
        committed = await self._store.commit(card_thread, batch, [], self._clock(), lease=lease)
        if committed.release is Release.LOST:
            return Answered.of(batch, committed=committed)  # the agents' lines are stored by the new holder
        if relayed:
            await self._agents_answered(customer_thread, relayed)
        return Answered.of(batch, committed=committed)

    async def _relay_line(self, card_thread: ThreadRef, customer_thread: ThreadRef, message: InboundMessage) -> bool:
        """One line of the card's thread: relayed to the customer when a support member may say it
        there now (True when its text went out), or the agent is told why not."""
        ref = CardRef(card_thread.channel, card_thread.thread_ts)
        if not await self._is_support(message.user):
            log.warning(
                "a line in a card's thread from outside the support team was not relayed",
                extra={"thread_key": card_thread.key},
            )
            await self._outbox.tell_agent(ref, message.user, NOT_SUPPORT)
            return False
        if is_internal(message.text):
            await self._outbox.tell_agent(ref, message.user, KEPT_INTERNAL)
            return False
        owner = await self._ownership.owner(customer_thread)
        if owner is Owner.WAITING:
            await self._handoff.claim(customer_thread, message.user)
        elif owner is not Owner.HUMAN:
            await self._outbox.support_note(
                ref, "This conversation is not with the team any more; that line was not sent to the customer."
            )
            return False
        relayed = False
        if message.text.strip():
            await self._outbox.relay_to_customer(customer_thread, ref, message.user, message.text)
            relayed = True
        if message.has_files:
            await self._outbox.support_note(
                ref, "I can't pass files on to the customer. Please describe what it shows, or share a link."
            )
        return relayed

    async def _agents_answered(self, customer_thread: ThreadRef, relayed: list[StoredTurn]) -> None:
        """The agents' relayed lines join the customer's conversation, and their first answer is timed."""
        await self._ownership.transition(
            customer_thread,
            allowed=(Owner.HUMAN,),
            to=Owner.HUMAN,
            by=relayed[-1].user,
            now=self._clock(),
            turns=tuple(relayed),
        )
        await self._ownership.person_answered(customer_thread, relayed[0].user, self._clock())

    async def _lease_held(self, thread: ThreadRef, still_ours: Callable[[], bool], lease: str) -> bool:
        """Checked right before a post to people: is the lease still the pass's own, on this
        worker's clock (`still_ours`) and, with the pass's token, in Redis?"""
        return still_ours() and (not lease or await self._store.holds_lease(thread, lease))
