"""Answer a thread's waiting messages: owner → explicit request → prompt → model → judge → reply or hand off.

The pipeline knows nothing of Slack: it reads and writes the thread through the stores, asks a
`Model`, and speaks through an `Outbox`. It is called by the one worker holding the thread's lease,
so a thread's messages are handled one pass at a time, in order. Messages that arrive while the
model is thinking are folded into a new draft (at most `max_redrafts` times), so three quick lines
get one answer. The owner is read again right before every send: an answer drafted before a
hand-off is never posted after it. With `streams`, a longer answer is shown sentence by sentence as
the model writes it, under the same checks (handlers/streaming.py says how).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from config.settings import TextSettings
from handlers.answered import Answered, answering
from handlers.claims import find_claims
from handlers.context import fit_to_budget_off_loop
from handlers.failures import DEFAULT_POLICY, Failures, Policy, answer_failed, message_failed, reply_failure
from handlers.handoff import Handoff
from handlers.history import ThreadReader
from handlers.intents import says_it_did_not_work, wants_human
from handlers.messages import Kind, ThreadRef
from handlers.model import Model, Outcome, Reply, StreamingModel
from handlers.model_turns import customer_turns, turns_for_model
from handlers.outbox import AnswerStream, Outbox, Streams
from handlers.prompt import SYSTEM_PROMPT, HandoffReason
from handlers.relays import Relays
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import (
    Pending,
    Release,
    SendCheck,
    Snapshot,
    StoredTurn,
    ThreadState,
    ThreadStore,
    episode_of,
    located,
)
from handlers.streaming import Live, ready_text
from handlers.tokens import Encoder
from handlers.who_moves import WhoMoves, customers_own, nobody_is_support

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Texts:
    apology: str
    files_only: str
    cannot_resolve: str
    not_helped: str
    claimed_action: str = ""  # sent instead of an answer claiming an action; cannot_resolve when unset
    message_cut: str = ""  # added to the answer when a message was cut to MAX_MESSAGE_CHARS
    stream_stopped: str = ""  # closes a streamed answer cut short because people took the thread
    files_shared: str = ""  # added to the answer when the customer shared a file (linked on the card)

    @classmethod
    def from_settings(cls, texts: TextSettings, max_message_chars: int) -> Texts:
        """The pipeline's lines as configured (TEXT_*), the message cap written into TEXT_MESSAGE_CUT."""
        return cls(
            apology=texts.text_apology,
            files_only=texts.text_files_only,
            cannot_resolve=texts.text_cannot_resolve,
            not_helped=texts.text_not_helped,
            claimed_action=texts.text_claimed_action,
            message_cut=texts.text_message_cut.replace("{limit}", f"{max_message_chars:,}"),
            stream_stopped=texts.text_stream_stopped,
            files_shared=texts.text_files_shared,
        )


class Pipeline:
    def __init__(
        self,
        store: ThreadStore,
        ownership: OwnershipStore,
        handoff: Handoff,
        model: Model,
        outbox: Outbox,
        *,
        encoder: Encoder,
        token_budget: int,
        texts: Texts,
        policy: Policy = DEFAULT_POLICY,
        max_redrafts: int = 2,
        is_support: Callable[[str], Awaitable[bool]] = nobody_is_support,
        clock: Callable[[], float] = time.time,
        streams: Streams | None = None,
        thread_reader: ThreadReader | None = None,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._handoff = handoff
        self._model = model
        # asked once: isinstance against a runtime-checkable Protocol costs about 30 µs a time
        self._streaming_model = model if isinstance(model, StreamingModel) else None
        self._outbox = outbox
        self._encoder = encoder
        self._budget = token_budget
        self._texts = texts
        self._max_redrafts = max_redrafts
        self._is_support = is_support
        self._clock = clock
        self._streams = streams  # streamed answers (Slack); None: every answer is one message
        self._thread_reader = thread_reader  # a mention halfway down a thread: read what came before
        self._who_moves = WhoMoves(store, is_support)
        self._failures = Failures(store, ownership, handoff, policy, clock)
        self._relays = Relays(store, ownership, handoff, outbox, is_support, clock)

    async def answer_pending(
        self,
        thread: ThreadRef,
        still_ours: Callable[[], bool] = lambda: True,
        *,
        lease: str = "",
        first: Snapshot | None = None,
    ) -> Answered:
        """Handle every waiting message of `thread`; `still_ours` says whether the lease is still held.

        When new messages arrive while the model drafts, the pass starts over with all of them
        (at most `max_redrafts` times), so a hand-off request or an agent's line is seen before
        Sarah's draft is sent. With `lease` (its token), every commit of the pass checks that the
        lease is still its own and writes nothing when it is not (`Release.LOST`), and an answer's
        commit also gives the lease up when nothing else waits (`Answered.release`). `first` is the
        first attempt's read when the worker made it already, with the lease
        (`ThreadStore.accept_and_begin`).
        """
        for attempt in range(self._max_redrafts + 1):
            snapshot = (
                first
                if attempt == 0 and first is not None
                else await self._store.begin(thread, tag=uuid.uuid4().hex, now=self._clock(), lease=lease)
            )
            batch = snapshot.pending
            if not batch:
                return Answered([])
            state = snapshot.state
            if attempt == 0:
                here = located(thread, state.reply_ts)  # a DM conversation: answer under the latest message
                if state.reply_pass:  # an earlier try died mid-answer: its messages are where it tagged them
                    there = located(thread, state.reply_at) if state.reply_at else here
                    state = await self._recover_posts(there, state)
                    if state.placeholder or state.reply_parts:
                        here = there  # the answer goes on where Slack has it, edited: never a second one
                thread = here
            await self._store.add_files(thread, [f for p in batch for f in p.message.files])
            if snapshot.tag:
                state.reply_pass, state.reply_since = snapshot.tag, snapshot.tagged_at
            if attempt == 0 and state.stream_ts and state.stream_ts == state.placeholder:
                await self._end_crashed_stream(thread, state)
            if state.relay_to:
                return await self._relays.relay_from_support(thread, state.relay_to, batch, still_ours, lease=lease)
            agents = await self._who_moves.support_members(thread, batch, state.customer)
            owner = state.owner
            if agents or owner in (Owner.WAITING, Owner.HUMAN):
                await self._clear_placeholder(thread, state)
                if agents:
                    return await self._relays.agents_wrote(thread, batch, agents, lease=lease)
                return await self._relays.hold_for_people(thread, state, batch, still_ours, lease=lease)
            if owner is Owner.RESOLVED:
                await self._handoff.reopen(thread)
            answered = await self._answer(
                thread, state, batch, snapshot.turns, still_ours, last_try=attempt == self._max_redrafts, lease=lease
            )
            if answered is not None:
                return answered
            log.info("new messages arrived while drafting; starting over with them", extra={"thread_key": thread.key})
        raise AssertionError("unreachable: the last attempt always answers")

    # -- Sarah answers ------------------------------------------------------------------------------

    async def _answer(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        turns: list[StoredTurn],
        still_ours: Callable[[], bool],
        *,
        last_try: bool,
        lease: str,
    ) -> Answered | None:
        feedback = [p for p in batch if p.message.kind is Kind.FEEDBACK]
        messages = [p for p in batch if p.message.kind is not Kind.FEEDBACK]
        if await self._read_thread_so_far(thread, state, messages, turns):
            turns = await self._store.history(thread)
        episode = episode_of(turns)
        previous = next((t for t in reversed(episode) if t.role == "assistant"), None)
        last_answer = previous.ts if previous is not None else ""
        failure_key = await self._failures.judge_feedback(thread, feedback, state.customer)
        own = customers_own(thread, messages, state.customer)  # only these can move the thread

        if messages and not episode:
            await self.conversation_started(thread)
        if any(wants_human(p.message.text) for p in own):
            return await self._failures.escalate(
                thread, batch, HandoffReason.CUSTOMER_ASKED, state.placeholder or None, lease=lease
            )
        if not messages:  # only button presses
            if (await self._store.commit(thread, batch, [], self._clock(), lease=lease)).release is Release.LOST:
                return Answered([], release=Release.LOST)
            if (
                failure_key
                and await self._failures.over_threshold(thread, failure_key, batch, None, lease=lease) is None
            ):
                await self._send_if_ours(thread, self._texts.not_helped, None, still_ours)
            return Answered.of(batch)
        # "nope, nothing" reports failed steps, but not when it answers "anything else?": the answer decides
        if (
            previous is not None
            and last_answer
            and any(says_it_did_not_work(p.message.text, previous.content) for p in own)
        ):
            failure_key = failure_key or answer_failed(last_answer)
        if all(p.message.files_only for p in messages):
            return await self._deliver(
                thread, state, batch, Reply(self._texts.files_only), None, still_ours, lease=lease
            )

        placeholder: str | None = state.placeholder or None
        streamable = (
            self._streams is not None
            and not placeholder
            and self._streaming_model is not None
            and await self._streams.may_stream(thread)
        )
        thinking: asyncio.Future[str | None] | None = None
        if not placeholder and still_ours():
            if streamable:  # whether to stream depends on what `thinking` shows: wait for it
                placeholder = await self._show_thinking(thread, state)
            else:  # shown while the model drafts; awaited before anything else is posted
                thinking = asyncio.ensure_future(self._show_thinking(thread, state))
        live: Live | None = None
        if streamable and not placeholder:
            live = Live()
            reply = await self._ask_model(
                thread,
                batch,
                episode,
                state.customer,
                lambda text: self._stream_some(thread, state, batch, live, text, still_ours, last_try, lease),
            )
            if live.abandoned:
                return None  # new messages arrived before anything was shown: start over with them
            if live.stream is not None and not live.cut_short:
                placeholder = live.stream.ts
                if reply.outcome is not Outcome.ANSWERED or find_claims(reply.text):
                    await live.stream.stop()  # it becomes a placeholder: replaced by what is sent instead
                    live.stream = None
            elif live.cut_short:
                placeholder, live.stream = None, None  # the cut-short answer stays as it is, closed
        else:
            try:
                reply = await self._ask_model(thread, batch, episode, state.customer)
            finally:
                if thinking is not None:
                    placeholder = await thinking  # the status is up before the answer replaces it
        kept = live is not None and live.stream is not None  # a draft being streamed is the one kept
        # owner, queue and lease, read once for what follows
        check = await self._store.send_check(thread, answering(batch), lease=lease)
        if not last_try and not kept and check.waiting > len(batch):
            return None  # start over with the new messages
        if reply.outcome is Outcome.ANSWERED and find_claims(reply.text):
            # Sarah cannot act on a home or account: such an answer would be a lie; an honest one goes
            # out instead, and it counts as a failure toward the hand-off.
            log.warning("answer withheld: it claimed an action Sarah cannot take", extra={"thread_key": thread.key})
            reply = Reply(
                self._texts.claimed_action or self._texts.cannot_resolve,
                reason=HandoffReason.CLAIMED_ACTION,
                usage=reply.usage,
            )
            if own:
                failure_key = failure_key or message_failed(own)

        moves = bool(own)  # bystanders alone are answered, but count no failure and hand nothing off
        if moves and reply.outcome is Outcome.HANDOFF and reply.reason == HandoffReason.CUSTOMER_ASKED:
            return await self._failures.escalate(
                thread, batch, HandoffReason.CUSTOMER_ASKED, placeholder, reply.summary, lease=lease
            )
        failure_key = failure_key or reply_failure(reply, own, last_answer)
        stream = live.stream if live is not None else None
        if failure_key and stream is not None:
            await stream.stop()  # a hand-off may replace the message: end the stream first
            stream = None
        handed = (
            await self._failures.over_threshold(thread, failure_key, batch, placeholder, reply, lease=lease)
            if failure_key
            else None
        )
        if handed is not None:
            return replace(handed, reply=reply)
        if failure_key is None and reply.outcome is Outcome.ANSWERED:
            await self._failures.answered_well(thread)
        fresh = check if failure_key is None else None  # a counted failure may have changed hands: read again
        return await self._deliver(
            thread, state, batch, reply, placeholder, still_ours, stream, check=fresh, lease=lease
        )

    async def conversation_started(self, thread: ThreadRef) -> None:
        """A customer's first message of a conversation (or of a fresh episode) is being answered:
        a hook for whoever counts conversations (bot/ops/observed_pipeline.py)."""

    async def _ask_model(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        episode: list[StoredTurn],
        customer: str,
        on_text: Callable[[str], Awaitable[bool]] | None = None,
    ) -> Reply:
        turns = turns_for_model(thread, episode, batch, customer)
        conversation = await fit_to_budget_off_loop(SYSTEM_PROMPT, turns, self._encoder, self._budget)
        started = time.monotonic()
        if on_text is not None and self._streaming_model is not None:
            reply = await self._streaming_model.reply_streaming(conversation, on_text)
        else:
            reply = await self._model.reply(conversation)
        log.info(
            "model replied",
            extra={
                "thread_key": thread.key,
                "outcome": reply.outcome.value,
                "reason": reply.reason,
                "turns": len(conversation.turns),
                "seconds": round(time.monotonic() - started, 3),
            },
        )
        return reply

    async def _deliver(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        reply: Reply,
        placeholder: str | None,
        still_ours: Callable[[], bool],
        stream: AnswerStream | None = None,
        *,
        check: SendCheck | None = None,
        lease: str = "",
    ) -> Answered:
        """Post Sarah's answer (or apology) if the thread is still hers, and record the turns.
        With a `stream` in flight, the answer finishes it (or replaces it when it cannot).

        `check` is the owner and queue read after the model answered (read here when None); with
        `lease`, the commit gives the lease up when nothing else waits."""
        answered = reply.outcome is Outcome.ANSWERED
        text = (
            reply.text
            if answered
            else (self._texts.cannot_resolve if reply.outcome is Outcome.HANDOFF else self._texts.apology)
        )
        if self._texts.message_cut and any(p.message.cut_from for p in batch):
            text = f"{text}\n\n{self._texts.message_cut}"
        if self._texts.files_shared and any(p.message.files for p in batch):
            text = f"{text}\n\n{self._texts.files_shared}"
        check = check or await self._store.send_check(thread, answering(batch), lease=lease)
        # the batch is judged already: only what came since can stop the send
        if check.arrived and await self._who_moves.people_are_coming(thread, state.customer, check.arrived):
            if stream is not None:
                await self._cut_short(thread, state, stream)
            return Answered([])  # a hand-off request or an agent's line is queued: the next pass handles all
        ours = still_ours if check.ours else _never
        sent, answer_ts = await self._send_if_ours(
            thread, text, placeholder, ours, feedback=answered, state=state, stream=stream, owner=check.owner
        )
        if not sent and not ours():
            return Answered([], release=Release.LOST)  # the lease moved on: the next holder answers these
        turns = customer_turns(batch)
        if answered and sent:
            turns.append(StoredTurn("assistant", reply.text, ts=answer_ts or ""))
        committed = await self._store.commit(thread, batch, turns, self._clock(), release=lease)
        return Answered.of(batch, reply, committed)

    async def _send_if_ours(
        self,
        thread: ThreadRef,
        text: str,
        placeholder: str | None,
        still_ours: Callable[[], bool],
        *,
        feedback: bool = False,
        state: ThreadState | None = None,
        stream: AnswerStream | None = None,
        owner: Owner | None = None,
    ) -> tuple[bool, str | None]:
        """Send unless the thread changed hands or the lease was lost meanwhile (then withdraw the
        placeholder). Returns whether it was sent, and the id of the message.

        `owner` is the owner as just read (read here when None). With the thread's `state`, the
        answer is tagged and each piece recorded as it is posted, so a retried pass edits the
        pieces an earlier try posted instead of posting them again."""
        if not still_ours() or (owner or await self._ownership.owner(thread)) is not Owner.BOT:
            log.info(
                "not sending: the thread changed hands while Sarah was answering", extra={"thread_key": thread.key}
            )
            if stream is not None and still_ours() and state is not None:
                await self._cut_short(thread, state, stream)
            elif placeholder and still_ours():
                await self._outbox.withdraw(thread, placeholder)
            return False, None
        if state is None:
            return True, await self._outbox.send(thread, text, replace=placeholder, feedback=feedback)
        tag = await self._reply_tag(thread, state)

        async def record(ids: list[str]) -> None:
            await self._store.set_fields(thread, placeholder=ids[0], reply_parts=json.dumps(ids[1:]))

        if stream is not None:
            if await stream.finish(text, feedback=feedback, tag=tag):
                return True, stream.ts
            placeholder = stream.ts  # the stream could not carry the whole answer: replace it
        parts = list(state.reply_parts)
        return True, await self._outbox.send(
            thread, text, replace=placeholder, feedback=feedback, tag=tag, parts=parts, on_part=record
        )

    async def dead_lettered(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        still_ours: Callable[[], bool] = lambda: True,
        *,
        lease: str = "",
    ) -> None:
        """`batch` could not be answered (its passes kept failing) and was set aside for an operator:
        count it as a failure (handing off at the threshold) or apologise, replacing "typing…".
        Only the customer's own messages count; a bystander's get the apology alone. With `lease`
        (the worker's token), a hand-off happens only while the lease is still its own."""
        state = await self._store.state(thread)
        messages = [p for p in batch if p.message.kind is not Kind.FEEDBACK]
        placeholder = state.placeholder or None
        if not messages:
            if placeholder:
                await self._outbox.withdraw(thread, placeholder)
            return
        own = customers_own(thread, messages, state.customer)
        failed = Reply("", Outcome.UNAVAILABLE)
        if (
            own
            and await self._failures.over_threshold(thread, message_failed(own), [], placeholder, failed, lease=lease)
            is not None
        ):
            return
        sent, _ = await self._send_if_ours(thread, self._texts.apology, placeholder, still_ours)
        if sent or placeholder:
            # The apology closes this answer: a replayed message gets an answer of its own, not an
            # edit of the apology by the crash recovery.
            await self._store.set_fields(
                thread, placeholder="", reply_pass="", reply_since="", reply_parts="", reply_at=""
            )

    # -- a first mention halfway down a thread ---------------------------------------------------------

    async def _read_thread_so_far(
        self, thread: ThreadRef, state: ThreadState, messages: list[Pending], stored: list[StoredTurn]
    ) -> bool:
        """Sarah is mentioned in a channel thread she has never seen: store what was said before the
        mention, once, so her first answer has the context (the prompt's budget keeps the newest).
        True when the stored turns changed."""
        if self._thread_reader is None or thread.is_dm or state.history_read or not messages:
            return False
        first = messages[0].message
        if first.kind is not Kind.MENTION or first.ts == thread.thread_ts or stored:
            return False
        turns = await self._thread_reader.earlier(thread, before=first.ts)
        await self._store.add_history(thread, turns)
        return True

    # -- helpers ---------------------------------------------------------------------------------------

    async def _clear_placeholder(self, thread: ThreadRef, state: ThreadState) -> None:
        """A "typing…" left by a draft that people overtook: remove it, Sarah will not answer."""
        if state.placeholder:
            await self._outbox.withdraw(thread, state.placeholder)
            await self._store.set_fields(thread, placeholder="")

    async def _show_thinking(self, thread: ThreadRef, state: ThreadState) -> str | None:
        """Slack's loading status, or a "typing…" placeholder (recorded: the answer replaces it)."""
        placeholder = await self._outbox.thinking(thread, tag=await self._reply_tag(thread, state))
        if placeholder:
            await self._store.set_fields(thread, placeholder=placeholder)
            state.placeholder = placeholder
        return placeholder

    # -- streamed answers (see handlers/streaming.py) -------------------------------------------------

    async def _stream_some(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        live: Live,
        text: str,
        still_ours: Callable[[], bool],
        last_try: bool,
        lease: str = "",
    ) -> bool:
        """The model wrote more: show its complete sentences, if streaming this draft is still right.
        Returns False to stop the model (the draft will not be kept, or the thread is not Sarah's)."""
        if live.one_message or live.claimed:
            return True  # read on: the answer goes out (or is replaced) as one message
        ready = ready_text(text, live.shown)
        if ready is None:
            return True
        if find_claims(ready):
            live.claimed = True  # the sentence with the claim is never shown; the message is replaced
            return True
        if live.stream is None:
            check = await self._store.send_check(thread, answering(batch), lease=lease)  # read once
            if not last_try and check.waiting > len(batch):
                live.abandoned = True
                return False
            customer = state.customer or batch[-1].message.user
            if (
                not still_ours()
                or not check.ours
                or check.owner is not Owner.BOT
                or await self._who_moves.people_are_coming(thread, customer, check.arrived)
            ):
                live.one_message = True  # the checks before sending decide, as without streaming
                return True
            tag = await self._reply_tag(thread, state)
            assert self._streams is not None
            stream = await self._streams.start_stream(
                thread, recipient_user=customer, recipient_team=batch[-1].message.thread.team
            )
            if stream is None:
                live.one_message = True
                return True
            # Recorded before anything is appended: a pass that takes over finishes or replaces it.
            await self._store.set_fields(thread, placeholder=stream.ts, stream_ts=stream.ts, reply_parts="[]")
            state.placeholder, state.stream_ts, state.reply_parts, state.reply_pass = stream.ts, stream.ts, [], tag
            live.stream = stream
        elif not still_ours():
            live.cut_short = True  # the lease moved on: its next holder finishes or replaces the message
            return False
        elif not (check := await self._store.send_check(thread, answering(batch), lease=lease)).ours:
            live.cut_short = True
            return False
        elif check.owner is not Owner.BOT or (
            await self._who_moves.people_are_coming(thread, state.customer, check.arrived)
        ):
            await self._cut_short(thread, state, live.stream)
            live.cut_short = True
            return False
        if not await live.stream.append(ready):
            live.one_message = True  # the stream cannot go on: the finished answer replaces it
        live.shown = ready
        return True

    async def _cut_short(self, thread: ThreadRef, state: ThreadState, stream: AnswerStream) -> None:
        """People took the thread while Sarah was writing: the stream ends at once with a closing
        line and stays as it is (it is no longer this pass's placeholder, nothing replaces it)."""
        log.info("a streamed answer was cut short: the thread is going to people", extra={"thread_key": thread.key})
        await stream.stop(self._texts.stream_stopped)
        await self._store.set_fields(thread, placeholder="", stream_ts="")
        state.placeholder, state.stream_ts = "", ""

    async def _end_crashed_stream(self, thread: ThreadRef, state: ThreadState) -> None:
        """An earlier pass died mid-stream: stop its stream so this pass can replace the message."""
        log.warning(
            "an earlier pass died while streaming; its message will be replaced", extra={"thread_key": thread.key}
        )
        if self._streams is not None:
            await self._streams.end_stream(thread, state.stream_ts)
        await self._store.set_fields(thread, stream_ts="")
        state.stream_ts = ""

    # -- one visible answer across a crash (see handlers/outbox.py) -----------------------------------

    async def _reply_tag(self, thread: ThreadRef, state: ThreadState) -> str:
        """The tag of this answer's messages, recorded in Redis BEFORE anything is posted with it."""
        tag = state.reply_pass
        if not tag:
            tag = uuid.uuid4().hex
            since = f"{self._clock():.3f}"
            await self._store.set_fields(thread, reply_pass=tag, reply_since=since, reply_at=thread.thread_ts)
            state.reply_pass, state.reply_since = tag, float(since)
        return tag

    async def _recover_posts(self, thread: ThreadRef, state: ThreadState) -> ThreadState:
        """A pass that tagged an answer and never committed it died mid-way: find the messages it
        posted but may not have recorded, so this pass edits them instead of posting again."""
        since = state.reply_since
        found = await self._outbox.find_posts(thread, state.reply_pass, since=since)
        recorded = [state.placeholder, *state.reply_parts]
        count = max(len(recorded), max(found, default=-1) + 1)
        ids = [found.get(i) or (recorded[i] if i < len(recorded) else "") for i in range(count)]
        first, parts = ids[0], [ts for ts in ids[1:] if ts]
        if [first, *parts] != recorded:
            log.warning(
                "an earlier try posted messages it did not record; editing them instead of posting again",
                extra={"thread_key": thread.key, "found": len(found)},
            )
            await self._store.set_fields(thread, placeholder=first, reply_parts=json.dumps(parts))
            state = replace(state, placeholder=first, reply_parts=parts)
        return state


def _never() -> bool:
    return False
