"""Streamed answers: shown sentence by sentence while the model writes them (handlers/pipeline.py asks).

Decisions, and why:
- Only complete sentences are shown (`ready_text`), at least `MIN_APPEND_CHARS` new characters at a
  time: each one is checked for claimed actions (handlers/claims.py) BEFORE it is appended. The first
  sentence with a claim is never shown; the stream stops there and the message is replaced by
  TEXT_CLAIMED_ACTION, exactly what the one-message path sends (and it counts as a failure).
- A short answer (under `MIN_APPEND_CHARS` in all) is never streamed: it goes out as one message and
  spends no streaming budget.
- The stream starts only when the draft will be kept: a draft overtaken by new messages before its
  first sentence is dropped and redrafted (nothing was shown); once a draft is shown it is finished,
  and messages that came meanwhile get the next answer.
- The stream is checked like a send (`StreamSteps.stream_some`): before it starts and before every
  append, the owner, the queue and the lease are read. People taking the thread cut it short with a
  closing line; the finished answer ends it (both in handlers/delivery.py). A stream left open by a
  pass that died is stopped by the next (`StreamSteps.end_crashed`), and its message replaced.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from handlers.answered import answering
from handlers.claims import find_claims
from handlers.delivery import Delivery
from handlers.messages import ThreadRef
from handlers.outbox import AnswerStream, Streams
from handlers.store.ownership import Owner
from handlers.store.thread_store import ThreadStore
from handlers.store.values import Pending
from handlers.thread_state import ThreadState
from handlers.who_moves import WhoMoves

log = logging.getLogger(__name__)

# slack-sdk's chat_stream() buffers as much by default: a 2,000-character answer takes about 8
# appends, so 8 streamed answers a minute stay under chat.appendStream's Tier 4 (100+ a minute).
MIN_APPEND_CHARS = 256
_SENTENCE_END = re.compile(r"(?:[.!?…:;)](?=\s)|\n)")


@dataclass
class Live:
    """One pass's streaming state (never shared between passes)."""

    stream: AnswerStream | None = None
    shown: str = ""  # the text given to the stream so far (complete sentences)
    one_message: bool = False  # not streaming (any more): the finished answer is sent or replaces it
    claimed: bool = False  # a sentence claimed an action: nothing more is shown
    abandoned: bool = False  # new messages came before anything was shown: redraft
    cut_short: bool = False  # people took the thread, or the lease moved on, while streaming

    def next_ready(self, text: str) -> str | None:
        """The complete sentences of `text` to show next; None when there are none, when the answer
        goes out as one message, or when a sentence claims an action (it is never shown)."""
        if self.one_message or self.claimed:
            return None  # read on: the answer goes out (or is replaced) as one message
        ready = ready_text(text, self.shown)
        if ready is not None and find_claims(ready):
            self.claimed = True  # the sentence with the claim is never shown; the message is replaced
            return None
        return ready


def ready_text(text: str, shown: str) -> str | None:
    """The prefix of `text` that ends with a complete sentence, when it adds at least
    `MIN_APPEND_CHARS` to `shown`; None when there is nothing worth showing yet."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends:
        return None
    ready = text[: ends[-1]]
    if ready.count("```") % 2:  # inside a code block: show it when the block is closed
        ready = ready[: ready.rfind("```")]
    if len(ready) - len(shown) < MIN_APPEND_CHARS or not ready.startswith(shown):
        return None
    return ready


class StreamSteps:
    """The steps of one streamed answer, called as the model writes (`stream_some`), and the end of
    a stream an earlier pass left open."""

    def __init__(self, store: ThreadStore, streams: Streams | None, delivery: Delivery, who_moves: WhoMoves) -> None:
        self._store = store
        self._streams = streams  # None: every answer is one message
        self._delivery = delivery
        self._who_moves = who_moves

    async def end_crashed(self, thread: ThreadRef, state: ThreadState) -> None:
        """A stream still recorded as the answer's message was left open by a pass that died."""
        if state.stream_ts and state.stream_ts == state.placeholder:
            await self._end_crashed_stream(thread, state)

    async def stream_some(
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
        ready = live.next_ready(text)
        if ready is None:
            return True  # read on: nothing to show yet, or the answer goes out (or is replaced) as one message
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
            tag = await self._delivery.reply_tag(thread, state)
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
        elif not await self._goes_on(thread, state, batch, live.stream, still_ours, lease):
            live.cut_short = True
            return False
        if not await live.stream.append(ready):
            live.one_message = True  # the stream cannot go on: the finished answer replaces it
        live.shown = ready
        return True

    async def _end_crashed_stream(self, thread: ThreadRef, state: ThreadState) -> None:
        """An earlier pass died mid-stream: stop its stream so this pass can replace the message."""
        log.warning(
            "an earlier pass died while streaming; its message will be replaced", extra={"thread_key": thread.key}
        )
        if self._streams is not None:
            await self._streams.end_stream(thread, state.stream_ts)
        await self._store.set_fields(thread, stream_ts="")
        state.stream_ts = ""

    async def _goes_on(
        self,
        thread: ThreadRef,
        state: ThreadState,
        batch: list[Pending],
        stream: AnswerStream,
        still_ours: Callable[[], bool],
        lease: str,
    ) -> bool:
        """Before every append: is the thread still Sarah's? When people took it, the stream is cut
        short here; when the lease moved on, its next holder finishes or replaces the message."""
        if not still_ours():
            return False
        if not (check := await self._store.send_check(thread, answering(batch), lease=lease)).ours:
            return False
        if check.owner is not Owner.BOT or (
            await self._who_moves.people_are_coming(thread, state.customer, check.arrived)
        ):
            await self._delivery.cut_short(thread, state, stream)
            return False
        return True
