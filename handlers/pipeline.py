"""Answer a thread's waiting messages: owner → explicit request → prompt → model → judge → reply or hand off.

The pipeline knows nothing of Slack: it reads and writes the thread through the stores, asks a
`Model`, and speaks through an `Outbox`. It is called by the one worker holding the thread's lease,
so a thread's messages are handled one pass at a time, in order. Messages that arrive while the
model is thinking are folded into a new draft (at most `max_redrafts` times), so three quick lines
get one answer. The owner is read again right before every send: an answer drafted before a
hand-off is never posted after it.

A pass, in order (`Pipeline.answer_pending`), and where each step lives:
1. Read the thread's waiting messages and state (`ThreadStore.begin`, handlers/store/thread_store.py).
2. Go on where an earlier try died: edit what it posted, stop the stream it left open
   (handlers/delivery.py, handlers/streaming.py).
3. People's threads: an agent's line in a card's thread goes to the customer, a customer's line to
   the card, a support member who writes takes the thread; Sarah stays silent (handlers/relays.py,
   handlers/who_moves.py).
4. What the customer's own lines settle before the model is asked: a person asked for (a hand-off),
   only buttons, only files; "not helped" and "it did not work" are failures (handlers/failures.py).
5. The draft: the model is shown the episode (handlers/model_turns.py) within the token budget,
   under "typing…", or streamed sentence by sentence as it writes (handlers/streaming.py). New
   messages meanwhile: start over from 1.
6. The judge: an answer claiming an action is replaced by an honest one (handlers/claims.py); a
   hand-off, no answer, or a withheld claim is a failure, and enough failures hand the thread to
   people (handlers/failures.py, handlers/handoff.py).
7. The send: owner, queue and lease read again, the answer tagged before it is posted, its turns
   recorded and the lease given up in one commit (handlers/delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from handlers.answered import Answered, answering
from handlers.claims import find_claims
from handlers.context import fit_to_budget_off_loop
from handlers.delivery import Delivery, Texts
from handlers.failures import DEFAULT_POLICY, Failures, Policy, answer_failed, message_failed, reply_failure
from handlers.handoff import Handoff
from handlers.history import ThreadReader
from handlers.hooks import NO_HOOKS, PipelineHooks
from handlers.intents import says_it_did_not_work, wants_human
from handlers.messages import Kind, ThreadRef
from handlers.model import Model, Outcome, Reply, StreamingModel
from handlers.model_turns import turns_for_model
from handlers.outbox import AnswerStream, Outbox, Streams
from handlers.prompt import SYSTEM_PROMPT, HandoffReason
from handlers.relays import Relays
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending, Release, SendCheck, Snapshot, StoredTurn, episode_of
from handlers.streaming import Live, StreamSteps
from handlers.thread_state import ThreadState
from handlers.tokens import Encoder
from handlers.who_moves import WhoMoves, customers_own, nobody_is_support

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Judged:
    """What the pass knows before the draft, for judging it."""

    own: list[Pending]  # the customer's own messages: only these count failures or hand off
    failure_key: str | None  # a failure reported already ("not helped", "it did not work")
    last_answer: str  # the id of Sarah's previous answer in the episode ("" when none)


@dataclass(frozen=True, slots=True)
class _Draft:
    """A draft the pass keeps."""

    reply: Reply
    placeholder: str | None  # the message the answer replaces
    stream: AnswerStream | None  # the stream showing it, open: the answer finishes it
    check: SendCheck  # the owner, the queue and the lease, read once after the model answered


class Pipeline:
    """One thread's pass, built on the parts each step needs (given, or built here from what is given)."""

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
        hooks: PipelineHooks = NO_HOOKS,
    ) -> None:
        self._store = store
        self._handoff = handoff
        self._model = model
        # asked once: isinstance against a runtime-checkable Protocol costs about 30 µs a time
        self._streaming_model = model if isinstance(model, StreamingModel) else None
        self._outbox = outbox
        self._encoder = encoder
        self._budget = token_budget
        self._texts = texts
        self._max_redrafts = max_redrafts
        self._is_support = is_support  # who is on the support team: the relays and the checks before a send
        self._clock = clock
        self._streams = streams  # streamed answers (Slack); None: every answer is one message
        self._thread_reader = thread_reader  # a mention halfway down a thread: read what came before
        self._hooks = hooks  # a span and a count per pass, conversations counted (bot/ops/observers.py)
        self._who_moves = WhoMoves(store, is_support)
        self._delivery = Delivery(store, ownership, outbox, self._who_moves, texts, clock)
        self._streaming = StreamSteps(store, streams, self._delivery, self._who_moves)
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
        """One pass over `thread` (`_pass` says what it does), inside the hooks' `around_pass`."""
        with self._hooks.around_pass(thread) as seen:
            answered = await self._pass(thread, still_ours, lease=lease, first=first)
            seen.entries_answered = len(answered.entry_ids)
        return answered

    async def _pass(
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
                thread, state = await self._delivery.answer_here(thread, state)
            await self._store.add_files(thread, [f for p in batch for f in p.message.files])
            if snapshot.tag:
                state.reply_pass, state.reply_since = snapshot.tag, snapshot.tagged_at
            if attempt == 0:
                await self._streaming.end_crashed(thread, state)
            held = await self._people_have_it(thread, state, batch, still_ours, lease)
            if held is not None:
                return held
            if state.owner is Owner.RESOLVED:
                await self._handoff.reopen(thread)
            answered = await self._answer(
                thread, state, batch, snapshot.turns, still_ours, last_try=attempt == self._max_redrafts, lease=lease
            )
            if answered is not None:
                return answered
            log.info("new messages arrived while drafting; starting over with them", extra={"thread_key": thread.key})
        raise AssertionError("unreachable: the last attempt always answers")

    async def _people_have_it(
        self, thread: ThreadRef, state: ThreadState, batch: list[Pending], still_ours: Callable[[], bool], lease: str
    ) -> Answered | None:
        """A card's thread, a thread a support member just wrote in, or one people have: Sarah does
        not answer, she passes lines on (handlers/relays.py). None: the thread is Sarah's to answer."""
        if state.relay_to:
            return await self._relays.relay_from_support(thread, state.relay_to, batch, still_ours, lease=lease)
        agents = await self._who_moves.support_members(thread, batch, state.customer)
        if agents or state.owner in (Owner.WAITING, Owner.HUMAN):
            await self._clear_placeholder(thread, state)
            if agents:
                return await self._relays.agents_wrote(thread, batch, agents, lease=lease)
            return await self._relays.hold_for_people(thread, state, batch, still_ours, lease=lease)
        return None

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
        """What the customer's own lines settle before the model is asked (a person asked for, only
        buttons, only files, a failure reported), then the draft. None: redraft with new messages."""
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
            await self._hooks.conversation_started(thread)
        if any(wants_human(p.message.text) for p in own):
            return await self._failures.escalate(
                thread, batch, HandoffReason.CUSTOMER_ASKED, state.placeholder or None, lease=lease
            )
        if not messages:  # only button presses
            return await self._buttons_only(thread, batch, failure_key, still_ours, lease)
        # "nope, nothing" reports failed steps, but not when it answers "anything else?": the answer decides
        if (
            previous is not None
            and last_answer
            and any(says_it_did_not_work(p.message.text, previous.content) for p in own)
        ):
            failure_key = failure_key or answer_failed(last_answer)
        if all(p.message.files_only for p in messages):
            return await self._delivery.deliver(
                thread, state, batch, Reply(self._texts.files_only), None, still_ours, lease=lease
            )
        draft = await self._draft(thread, state, batch, episode, still_ours, last_try=last_try, lease=lease)
        if draft is None:
            return None  # start over with the new messages
        judged = _Judged(own, failure_key, last_answer)
        return await self._judge_and_send(thread, state, batch, draft, judged, still_ours, lease)

    async def _buttons_only(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        failure_key: str | None,
        still_ours: Callable[[], bool],
        lease: str,
    ) -> Answered:
        """Only button presses: recorded; "not helped" counts the answer's failure and, below the
        threshold, Sarah says she is sorry it did not help (TEXT_NOT_HELPED)."""
        if (await self._store.commit(thread, batch, [], self._clock(), lease=lease)).release is Release.LOST:
            return Answered([], release=Release.LOST)
        if failure_key and await self._failures.over_threshold(thread, failure_key, batch, None, lease=lease) is None:
            await self._delivery.send_if_ours(thread, self._texts.not_helped, None, still_ours)
        return Answered.of(batch)

    async def _draft(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        episode: list[StoredTurn],
        still_ours: Callable[[], bool],
        *,
        last_try: bool,
        lease: str,
    ) -> _Draft | None:
        """The model's draft, under "typing…" or streamed as it is written. None: new messages arrived
        meanwhile, and the draft is dropped (not on the last try, nor once a stream has shown it)."""
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
        stream: AnswerStream | None = None
        if streamable and not placeholder:
            streamed = await self._ask_streaming(
                thread, state, batch, episode, placeholder, still_ours, last_try, lease
            )
            if streamed is None:
                return None  # new messages arrived before anything was shown: start over with them
            reply, placeholder, stream = streamed
        else:
            try:
                reply = await self._ask_model(thread, batch, episode, state.customer)
            finally:
                if thinking is not None:
                    placeholder = await thinking  # the status is up before the answer replaces it
        # owner, queue and lease, read once for what follows
        check = await self._store.send_check(thread, answering(batch), lease=lease)
        if not last_try and stream is None and check.waiting > len(batch):  # a draft being streamed is kept
            return None
        return _Draft(reply, placeholder, stream, check)

    async def _ask_streaming(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        episode: list[StoredTurn],
        placeholder: str | None,
        still_ours: Callable[[], bool],
        last_try: bool,
        lease: str,
    ) -> tuple[Reply, str | None, AnswerStream | None] | None:
        """Ask the model while its sentences are streamed (handlers/streaming.py): the reply, the
        message it replaces, and the stream it finishes (None: it is sent as one message). None: new
        messages arrived before anything was shown."""
        live = Live()
        reply = await self._ask_model(
            thread,
            batch,
            episode,
            state.customer,
            lambda text: self._streaming.stream_some(thread, state, batch, live, text, still_ours, last_try, lease),
        )
        if live.abandoned:
            return None
        if live.stream is not None and not live.cut_short:
            placeholder = live.stream.ts
            if reply.outcome is not Outcome.ANSWERED or find_claims(reply.text):
                await live.stream.stop()  # it becomes a placeholder: replaced by what is sent instead
                live.stream = None
        elif live.cut_short:
            placeholder, live.stream = None, None  # the cut-short answer stays as it is, closed
        return reply, placeholder, live.stream

    async def _judge_and_send(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        draft: _Draft,
        judged: _Judged,
        still_ours: Callable[[], bool],
        lease: str,
    ) -> Answered:
        """Send the draft, or count the failure it is and hand off at the threshold (handlers/failures.py).
        A hand-off the customer asked for is made at once; bystanders alone count no failure."""
        reply, placeholder, own = self._honest(thread, draft.reply), draft.placeholder, judged.own
        failure_key = judged.failure_key
        if reply is not draft.reply and own:  # a withheld claim is a failure of the message
            failure_key = failure_key or message_failed(own)
        moves = bool(own)  # bystanders alone are answered, but count no failure and hand nothing off
        if moves and reply.outcome is Outcome.HANDOFF and reply.reason == HandoffReason.CUSTOMER_ASKED:
            return await self._failures.escalate(
                thread, batch, HandoffReason.CUSTOMER_ASKED, placeholder, reply.summary, lease=lease
            )
        failure_key = failure_key or reply_failure(reply, own, judged.last_answer)
        stream = draft.stream
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
        fresh = draft.check if failure_key is None else None  # a counted failure may have changed hands: read again
        return await self._delivery.deliver(
            thread, state, batch, reply, placeholder, still_ours, stream, check=fresh, lease=lease
        )

    def _honest(self, thread: ThreadRef, reply: Reply) -> Reply:
        """Sarah cannot act on a home or account: an answer claiming she did would be a lie; an honest
        one goes out instead (and it counts as a failure toward the hand-off)."""
        if reply.outcome is not Outcome.ANSWERED or not find_claims(reply.text):
            return reply
        log.warning("answer withheld: it claimed an action Sarah cannot take", extra={"thread_key": thread.key})
        return Reply(
            self._texts.claimed_action or self._texts.cannot_resolve,
            reason=HandoffReason.CLAIMED_ACTION,
            usage=reply.usage,
        )

    async def _ask_model(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        episode: list[StoredTurn],
        customer: str,
        on_text: Callable[[str], Awaitable[bool]] | None = None,
    ) -> Reply:
        """One call of the model on the episode and the batch, fitted to the token budget; with
        `on_text`, each piece it writes is passed on as it comes (a streamed answer)."""
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
        sent, _ = await self._delivery.send_if_ours(thread, self._texts.apology, placeholder, still_ours)
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
        placeholder = await self._outbox.thinking(thread, tag=await self._delivery.reply_tag(thread, state))
        if placeholder:
            await self._store.set_fields(thread, placeholder=placeholder)
            state.placeholder = placeholder
        return placeholder
