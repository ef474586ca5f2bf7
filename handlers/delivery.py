"""Crash-safe posting: Sarah's answer reaches the customer once, and only while the thread is hers.

Before the "typing…" placeholder or any piece of an answer is posted, the answer's tag is recorded
in Redis (`Delivery.reply_tag`), and every message of it carries the tag in Slack's metadata. A pass
that takes over after a crash finds what the dead one posted (`Delivery.answer_here`) and edits it:
never a second answer. Right before the send, the owner, the queue and the lease are read again
(`Delivery.send_if_ours`): an answer drafted before a hand-off is never posted after it. The
answer's commit records the turns and gives the lease up (`Delivery.deliver`). A stream in flight is
finished by the answer, or cut short with a closing line when people took the thread (handlers/streaming.py
shows it while the model writes). The pass decides what to send (handlers/pipeline.py).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from config.settings import TextSettings
from handlers.answered import Answered, answering
from handlers.messages import ThreadRef
from handlers.model import Outcome, Reply
from handlers.model_turns import customer_turns
from handlers.outbox import AnswerStream, Outbox
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending, Release, SendCheck, StoredTurn, located
from handlers.thread_state import ThreadState
from handlers.who_moves import WhoMoves

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Texts:
    """What Sarah says herself (TEXT_* settings): instead of an answer, or added to one."""

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


class Delivery:
    """Posts (or withholds) one pass's answer, tagged so that a crash never makes it two."""

    def __init__(
        self,
        store: ThreadStore,
        ownership: OwnershipStore,
        outbox: Outbox,
        who_moves: WhoMoves,
        texts: Texts,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._outbox = outbox
        self._who_moves = who_moves
        self._texts = texts
        self._clock = clock

    async def answer_here(self, thread: ThreadRef, state: ThreadState) -> tuple[ThreadRef, ThreadState]:
        """Where the pass answers, and the thread's state with what an earlier try posted: the answer
        goes on in the messages that try left, never as a second one."""
        here = located(thread, state.reply_ts)  # a DM conversation: answer under the latest message
        if state.reply_pass:  # an earlier try died mid-answer: its messages are where it tagged them
            there = located(thread, state.reply_at) if state.reply_at else here
            state = await self._recover_posts(there, state)
            if state.placeholder or state.reply_parts:
                here = there  # the answer goes on where Slack has it, edited: never a second one
        return here, state

    async def deliver(
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
                await self.cut_short(thread, state, stream)
            return Answered([])  # a hand-off request or an agent's line is queued: the next pass handles all
        ours = still_ours if check.ours else _never
        sent, answer_ts = await self.send_if_ours(
            thread, text, placeholder, ours, feedback=answered, state=state, stream=stream, owner=check.owner
        )
        if not sent and not ours():
            return Answered([], release=Release.LOST)  # the lease moved on: the next holder answers these
        turns = customer_turns(batch)
        if answered and sent:
            turns.append(StoredTurn("assistant", reply.text, ts=answer_ts or ""))
        committed = await self._store.commit(thread, batch, turns, self._clock(), release=lease)
        return Answered.of(batch, reply, committed)

    async def send_if_ours(
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
                await self.cut_short(thread, state, stream)
            elif placeholder and still_ours():
                await self._outbox.withdraw(thread, placeholder)
            return False, None
        if state is None:
            return True, await self._outbox.send(thread, text, replace=placeholder, feedback=feedback)
        tag = await self.reply_tag(thread, state)

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

    async def cut_short(self, thread: ThreadRef, state: ThreadState, stream: AnswerStream) -> None:
        """People took the thread while Sarah was writing: the stream ends at once with a closing
        line and stays as it is (it is no longer this pass's placeholder, nothing replaces it)."""
        log.info("a streamed answer was cut short: the thread is going to people", extra={"thread_key": thread.key})
        await stream.stop(self._texts.stream_stopped)
        await self._store.set_fields(thread, placeholder="", stream_ts="")
        state.placeholder, state.stream_ts = "", ""

    async def reply_tag(self, thread: ThreadRef, state: ThreadState) -> str:
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
        earlier = await self._outbox.find_posts(thread, state.reply_pass, since=since)
        found, stream_ts = dict(earlier.parts), state.stream_ts
        if earlier.unrecorded_stream and 0 not in found and not state.placeholder:
            # it died right after starting a stream: that message is stopped, then edited into the answer
            found[0] = stream_ts = earlier.unrecorded_stream
        recorded = [state.placeholder, *state.reply_parts]
        count = max(len(recorded), max(found, default=-1) + 1)
        ids = [found.get(i) or (recorded[i] if i < len(recorded) else "") for i in range(count)]
        first, parts = ids[0], [ts for ts in ids[1:] if ts]
        if [first, *parts] != recorded:
            log.warning(
                "an earlier try posted messages it did not record; editing them instead of posting again",
                extra={"thread_key": thread.key, "found": len(found)},
            )
            await self._store.set_fields(thread, placeholder=first, reply_parts=json.dumps(parts), stream_ts=stream_ts)
            state = replace(state, placeholder=first, reply_parts=parts, stream_ts=stream_ts)
        return state


def _never() -> bool:
    """`still_ours` of a send whose lease Redis no longer holds for the pass."""
    return False
