"""Hand a thread to the support team, and everything that happens to it while people have it.

Each change of hands is one atomic `OwnershipStore.transition`; only the caller that made the
change tells the customer and updates the card, so a double click or two agents at once produce one
notice. The customer is told at every change: escalated, an agent joined, back to Sarah, resolved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from config.settings import TextSettings
from handlers.messages import ThreadRef
from handlers.model import Conversation, Model, Outcome, Turn
from handlers.outbox import Card, Outbox
from handlers.store.limits import TEXT_HANDOFF_JOINED, Limits
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import StoredTurn, parse_thread_key

log = logging.getLogger(__name__)

SUMMARY_PROMPT = (
    "You write hand-off notes for the ZenNest support team. In at most two sentences, say what the "
    "customer needs and what has been tried. Plain text, no greeting."
)
HAND_BACK_MARKER = "Support handed the conversation back to Sarah."
REOPENED_MARKER = "The customer came back after a resolved hand-off."  # the episode before it was resolved
TRANSCRIPT_TURNS = 12
ASKED_AGAIN_CHARACTERS = 300  # of the customer's latest words, shown on the open card's thread


@dataclass(frozen=True, slots=True)
class HandoffTexts:
    handoff: str
    agent_joined: str  # contains {agent}
    back_to_sarah: str
    resolved: str

    @classmethod
    def from_settings(cls, texts: TextSettings) -> HandoffTexts:
        return cls(
            handoff=texts.text_handoff,
            agent_joined=texts.text_agent_joined,
            back_to_sarah=texts.text_back_to_sarah,
            resolved=texts.text_resolved,
        )


class Handoff:
    def __init__(
        self,
        store: ThreadStore,
        ownership: OwnershipStore,
        outbox: Outbox,
        model: Model,
        *,
        texts: HandoffTexts,
        reminder_seconds: float,
        clock: Callable[[], float] = time.time,
        limits: Limits | None = None,
        max_reminders: int | None = None,
        slot_ttl_seconds: int = 30 * 86_400,
        after_resolve: Callable[[ThreadRef], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._outbox = outbox
        self._model = model
        self._texts = texts
        self._reminder_seconds = reminder_seconds
        self._clock = clock
        self._limits = limits  # one open hand-off per customer
        self._max_reminders = max_reminders  # None: remind until someone claims the card
        self._slot_ttl = slot_ttl_seconds
        self._after_resolve = after_resolve  # e.g. ask the customer for a rating

    async def escalate(
        self, thread: ThreadRef, *, reason: str, failures: int, placeholder: str | None = None, summary: str = ""
    ) -> bool:
        """bot → waiting: tell the customer, post the card, schedule the reminder. False if not Sarah's,
        or if the customer already has a hand-off open elsewhere (this request joins that card)."""
        now = self._clock()
        customer = (await self._store.state(thread)).customer
        if self._limits is not None and customer:
            other = await self._open_handoff_elsewhere(thread, customer)
            if other is not None:
                await self._join(other, thread, customer, placeholder)
                return False
        moved = await self._ownership.transition(
            thread,
            allowed=(Owner.BOT,),
            to=Owner.WAITING,
            by="sarah",
            now=now,
            handoff_reason=reason,
            escalated_at=now,
            failures_at_handoff=failures,
            reminders=0,
        )
        if not moved.changed:
            if placeholder:
                await self._outbox.withdraw(thread, placeholder)
            return False
        if self._max_reminders != 0:
            await self._ownership.remind_at(thread, now + self._reminder_seconds)
        log.info("thread handed to support", extra={"thread_key": thread.key, "reason": reason, "failures": failures})
        await self._outbox.send(thread, self._texts.handoff, replace=placeholder)
        summary = summary or await self._summarize(thread)
        await self._store.set_fields(thread, summary=summary)
        card = await self.card(thread)
        ref = await self._outbox.post_card(card)
        if ref is not None:
            await self._store.set_fields(thread, card_channel=ref.channel, card_ts=ref.ts)
            if thread.is_dm:  # agents cannot see the DM: Sarah relays through the card's thread
                await self._store.set_fields(ThreadRef(ref.channel, ref.ts), relay_to=thread.key, kind="card")
        return True

    async def claim(self, thread: ThreadRef, agent: str) -> str | None:
        """waiting → human. Returns why not, or None when the agent now has the thread."""
        moved = await self._ownership.transition(
            thread, allowed=(Owner.WAITING,), to=Owner.HUMAN, by=agent, now=self._clock()
        )
        if not moved.changed:
            return _why_not(moved.previous)
        await self._after_agent_joined(thread, agent)
        return None

    async def take_over(self, thread: ThreadRef, agent: str) -> bool:
        """A support member wrote in the thread: it is theirs now, whoever had it."""
        moved = await self._ownership.transition(
            thread, allowed=(Owner.BOT, Owner.WAITING, Owner.RESOLVED), to=Owner.HUMAN, by=agent, now=self._clock()
        )
        if moved.changed:
            await self._after_agent_joined(thread, agent)
        return moved.changed

    async def resolve(self, thread: ThreadRef, agent: str) -> str | None:
        moved = await self._ownership.transition(
            thread, allowed=(Owner.WAITING, Owner.HUMAN), to=Owner.RESOLVED, by=agent, now=self._clock()
        )
        if not moved.changed:
            return _why_not(moved.previous)
        await self._ownership.cancel_reminder(thread)
        await self._release_slot(thread)
        await self._outbox.send(thread, self._texts.resolved)
        await self._refresh_card(thread)
        if self._after_resolve is not None:
            await self._after_resolve(thread)
        return None

    async def withdraw(self, thread: ThreadRef, customer: str) -> bool:
        """The customer set the conversation aside (the terminal chat's /reset): its hand-off ends
        as resolved, silently, so asking for a person later opens a new one. False if none was open."""
        moved = await self._ownership.transition(
            thread, allowed=(Owner.WAITING, Owner.HUMAN), to=Owner.RESOLVED, by=customer, now=self._clock()
        )
        if not moved.changed:
            return False
        await self._ownership.cancel_reminder(thread)
        await self._release_slot(thread)
        await self._refresh_card(thread)
        return True

    async def hand_back(self, thread: ThreadRef, agent: str) -> str | None:
        """waiting/human → bot, with a fresh failure count and a new episode for the model."""
        moved = await self._ownership.transition(
            thread,
            allowed=(Owner.WAITING, Owner.HUMAN),
            to=Owner.BOT,
            by=agent,
            now=self._clock(),
            reset_failures=True,
            turns=(StoredTurn("marker", HAND_BACK_MARKER), StoredTurn("assistant", self._texts.back_to_sarah)),
        )
        if not moved.changed:
            return _why_not(moved.previous)
        await self._ownership.cancel_reminder(thread)
        await self._release_slot(thread)
        await self._outbox.send(thread, self._texts.back_to_sarah)
        await self._refresh_card(thread)
        return None

    async def reopen(self, thread: ThreadRef) -> None:
        """A customer wrote again in a resolved thread: Sarah takes it, as a new episode."""
        await self._ownership.transition(
            thread,
            allowed=(Owner.RESOLVED,),
            to=Owner.BOT,
            by="customer",
            now=self._clock(),
            reset_failures=True,
            turns=(StoredTurn("marker", REOPENED_MARKER),),
        )

    async def remind_due(self) -> int:
        """Re-announce every card whose reminder is due and still unclaimed; returns how many."""
        reminded = 0
        for thread in await self._ownership.pop_due_reminders(self._clock()):
            state = await self._store.state(thread)
            if state.owner is not Owner.WAITING:
                continue
            ref = state.card
            if ref is None:  # the process stopped between hand-off and card: post it now
                ref = await self._outbox.post_card(await self.card(thread))
                if ref is not None:
                    await self._store.set_fields(thread, card_channel=ref.channel, card_ts=ref.ts)
                await self._ownership.remind_at(thread, self._clock() + self._reminder_seconds)
                continue
            sent = await self._store.increment(thread, "reminders")
            if self._max_reminders is not None and sent > self._max_reminders:
                continue  # announced often enough (HANDOFF_MAX_REMINDERS): the card stays, unclaimed
            await self._outbox.remind(ref, await self.card(thread))
            reminded += 1
            if self._max_reminders is None or sent < self._max_reminders:
                await self._ownership.remind_at(thread, self._clock() + self._reminder_seconds)
        return reminded

    async def _open_handoff_elsewhere(self, thread: ThreadRef, customer: str) -> ThreadRef | None:
        """Take the customer's one hand-off slot for `thread`, or return the thread whose hand-off is open."""
        assert self._limits is not None
        held = await self._limits.reserve_handoff(customer, thread.key, ttl_seconds=self._slot_ttl)
        if held is None:
            return None
        other = parse_thread_key(held)
        if await self._ownership.owner(other) in (Owner.WAITING, Owner.HUMAN):
            return other
        # That hand-off ended without freeing the slot (its state expired or was deleted): take it over.
        held = await self._limits.reserve_handoff(customer, thread.key, ttl_seconds=self._slot_ttl, replace=held)
        return parse_thread_key(held) if held else None

    async def _join(self, other: ThreadRef, thread: ThreadRef, customer: str, placeholder: str | None) -> None:
        """A second request while one is open: note it on the open card, tell the customer where it went."""
        ref = (await self._store.state(other)).card
        if ref is not None:
            turns = await self._store.episode(thread)
            asked = [t.content for t in turns if t.role == "user" and (not t.user or t.user == customer)]
            await self._outbox.asked_again(ref, customer, asked[-1][:ASKED_AGAIN_CHARACTERS] if asked else "")
        log.info("hand-off request joined the customer's open one", extra={"thread_key": thread.key})
        await self._outbox.send(thread, TEXT_HANDOFF_JOINED, replace=placeholder)

    async def _release_slot(self, thread: ThreadRef) -> None:
        customer = (await self._store.state(thread)).customer
        if self._limits is not None and customer:
            await self._limits.release_handoff(customer, thread.key)

    async def card(self, thread: ThreadRef) -> Card:
        return await card_of(self._store, thread)

    async def _after_agent_joined(self, thread: ThreadRef, agent: str) -> None:
        await self._ownership.cancel_reminder(thread)
        name = await self._outbox.display_name(agent)
        await self._outbox.send(thread, self._texts.agent_joined.format(agent=name))
        await self._refresh_card(thread)

    async def _refresh_card(self, thread: ThreadRef) -> None:
        ref = (await self._store.state(thread)).card
        if ref is not None:
            await self._outbox.update_card(ref, await self.card(thread))

    async def _summarize(self, thread: ThreadRef) -> str:
        """The model's two-line summary for the agent; a plain one when the model cannot give it."""
        turns = await self._store.episode(thread)
        customer = (await self._store.state(thread)).customer
        # One line per turn, its line breaks flattened: a message cannot add a speaker line of its own.
        lines = "\n".join(f"{_speaker(t, customer)}: {' '.join(t.content.split())}" for t in turns[-20:])
        reply = await self._model.reply(Conversation(SUMMARY_PROMPT, (Turn("user", lines or "(no messages)"),)))
        if reply.outcome is Outcome.ANSWERED and reply.text.strip():
            return reply.text.strip()[:600]
        return plain_summary(turns)


def plain_summary(turns: list[StoredTurn]) -> str:
    asked = [t.content for t in turns if t.role == "user"]
    if not asked:
        return "The customer asked for a person."
    first, last = asked[0][:200], asked[-1][:200]
    return f"First message: “{first}”" + (f" Latest: “{last}”" if len(asked) > 1 else "")


def _speaker(turn: StoredTurn, customer: str) -> str:
    if turn.role == "assistant":
        return "Sarah"
    if turn.role == "agent":
        return "Support agent"
    return "Another person" if customer and turn.user and turn.user != customer else "Customer"


def _why_not(owner: Owner) -> str:
    return {
        Owner.BOT: "Sarah has this conversation (it was handed back or never escalated).",
        Owner.WAITING: "Nobody has claimed this conversation yet.",
        Owner.HUMAN: "Someone on the team has already claimed this conversation.",
        Owner.RESOLVED: "This conversation is already resolved.",
    }[owner]


async def card_of(store: ThreadStore, thread: ThreadRef) -> Card:
    """The hand-off card of `thread` as the store has it now (posted, refreshed, rated)."""
    state = await store.state(thread)
    turns = [t for t in await store.history(thread) if t.role in ("user", "assistant", "agent")]
    return Card(
        thread=thread,
        customer=state.customer,
        reason=state.handoff_reason,
        failures=state.failures if state.failures_at_handoff is None else state.failures_at_handoff,
        summary=state.summary,
        transcript=tuple(turns[-TRANSCRIPT_TURNS:]),
        status=state.owner,
        escalated_at=state.escalated_at,
        status_by=state.owner_by,
        status_at=state.owner_at,
        files=state.files,
        rating=state.rating,
    )
