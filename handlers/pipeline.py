"""Answer a thread's waiting messages: load → prompt → model → reply → save.

The pipeline knows nothing of Slack: it reads and writes the thread through `ThreadStore`, asks a
`Model`, and speaks through an `Outbox` (Slack in production, the terminal in the local chat, a
recorder in tests). Messages that arrive while the model is thinking are folded into one new draft
(at most `max_redrafts` times), so a customer who sends three quick lines gets one answer to all
three.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from handlers.context import fit_to_budget
from handlers.messages import InboundMessage, ThreadRef
from handlers.model import Model, Outcome, Reply, Turn
from handlers.prompt import SYSTEM_PROMPT
from handlers.thread_store import Pending, StoredTurn, ThreadStore
from handlers.tokens import Encoder

log = logging.getLogger(__name__)

FILE_NOTE = "\n[The customer also attached a file, which Sarah cannot open.]"


class Outbox(Protocol):
    """Where Sarah's words go. Each method is one visible change in the customer's thread."""

    async def thinking(self, thread: ThreadRef) -> str | None:
        """Show that Sarah is answering; return a handle `send` can replace, if there is one."""
        ...

    async def send(self, thread: ThreadRef, text: str, *, replace: str | None = None) -> None:
        """Post `text` in the thread (replacing the `thinking` placeholder when given)."""
        ...

    async def withdraw(self, thread: ThreadRef, handle: str) -> None:
        """Remove a placeholder that will not become an answer."""
        ...


@dataclass(frozen=True, slots=True)
class Texts:
    apology: str
    files_only: str


@dataclass(frozen=True, slots=True)
class Answered:
    """What one pass answered: the stream entries to acknowledge, and what Sarah said."""

    entry_ids: list[str]
    reply: Reply | None


class Pipeline:
    def __init__(
        self,
        store: ThreadStore,
        model: Model,
        outbox: Outbox,
        *,
        encoder: Encoder,
        token_budget: int,
        texts: Texts,
        max_redrafts: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._model = model
        self._outbox = outbox
        self._encoder = encoder
        self._budget = token_budget
        self._texts = texts
        self._max_redrafts = max_redrafts
        self._clock = clock

    async def answer_pending(
        self, thread: ThreadRef, still_ours: Callable[[], bool] = lambda: True
    ) -> Answered:
        """Answer every waiting message of `thread` in one reply; `still_ours` guards each send."""
        batch = await self._store.pending(thread)
        if not batch:
            return Answered([], None)
        if all(p.message.files_only for p in batch):
            return await self._finish(thread, batch, Reply(self._texts.files_only), None, still_ours)

        placeholder = (await self._store.state(thread)).get("placeholder")
        if not placeholder and still_ours():
            placeholder = await self._outbox.thinking(thread)
            if placeholder:
                await self._store.set_fields(thread, placeholder=placeholder)

        for redraft in range(self._max_redrafts + 1):
            reply = await self._ask_model(thread, batch)
            if redraft < self._max_redrafts and await self._store.pending_count(thread) > len(batch):
                log.info("new messages arrived while drafting; drafting again", extra={"thread": thread.key})
                batch = await self._store.pending(thread)
                continue
            break
        return await self._finish(thread, batch, reply, placeholder, still_ours)

    async def _ask_model(self, thread: ThreadRef, batch: list[Pending]) -> Reply:
        history = [Turn(t.role, t.content) for t in await self._store.history(thread)]  # type: ignore[arg-type]
        new_turns = [Turn("user", _user_text(p.message)) for p in batch]
        conversation = fit_to_budget(SYSTEM_PROMPT, history + new_turns, self._encoder, self._budget)
        started = time.monotonic()
        reply = await self._model.reply(conversation)
        log.info(
            "model replied",
            extra={"thread": thread.key, "outcome": reply.outcome.value, "reason": reply.reason,
                   "turns": len(conversation.turns), "seconds": round(time.monotonic() - started, 3)},
        )
        return reply

    async def _finish(
        self,
        thread: ThreadRef,
        batch: list[Pending],
        reply: Reply,
        placeholder: str | None,
        still_ours: Callable[[], bool],
    ) -> Answered:
        if not still_ours():
            log.warning("lost the thread's lease before sending; another worker answers it",
                        extra={"thread": thread.key})
            return Answered([], None)
        text = reply.text if reply.outcome is Outcome.ANSWERED else self._texts.apology
        await self._outbox.send(thread, text, replace=placeholder)
        turns = [StoredTurn("user", _user_text(p.message), p.message.ts, p.message.user) for p in batch]
        if reply.outcome is Outcome.ANSWERED:
            turns.append(StoredTurn("assistant", reply.text))
        await self._store.commit(thread, batch, turns, self._clock())
        return Answered([p.entry_id for p in batch], reply)


def _user_text(message: InboundMessage) -> str:
    if message.files_only:
        return "[The customer sent a file without text.]"
    return message.text + (FILE_NOTE if message.has_files else "")
