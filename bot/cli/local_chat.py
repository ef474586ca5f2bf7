"""`sarah` with no Slack tokens: a chat in the terminal through the very same pipeline.

Each line goes onto the same Redis stream a Slack message would, the worker answers it with the
same pipeline (memory, model, failure counting, hand-off), and a terminal `Outbox` prints what
Slack would show, including what the support team would see when Sarah hands the conversation over.
The conversation is found again after a restart; `/reset` starts a fresh one and ends the earlier
one's hand-off, which no agent could answer here.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.runtime import Sarah
from config import Settings
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.outbox import Card, CardRef, OffSlackOutbox, PartsRecorder
from handlers.store.ownership import Owner

CHANNEL = "DLOCALCHAT"  # a DM-like thread: the same rules as a Slack DM
USER = "ULOCAL"
HELP = "Type your question. Commands: /reset (fresh conversation), /human (ask for a person), /quit."
REPLY_WAIT_SECONDS = 120


class TerminalOutbox(OffSlackOutbox):
    """Prints what Sarah says; `said` is set whenever Sarah finished saying something."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.said = asyncio.Event()

    def _print(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    async def send(
        self,
        thread: ThreadRef,
        text: str,
        *,
        replace: str | None = None,
        feedback: bool = False,
        tag: str = "",
        parts: Sequence[str] = (),
        on_part: PartsRecorder | None = None,
    ) -> str | None:
        self._print(f"Sarah: {text}")
        self.said.set()
        return f"{time.time():.6f}"

    async def post_card(self, card: Card) -> CardRef | None:
        self._print(
            f"[hand-off] In Slack, Sarah would now hand this conversation to the ZenNest support team "
            f"(reason: {card.reason or 'hand-off'}; failures: {card.failures}). Summary: {card.summary}"
        )
        return None

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        self._print(f"{agent} (ZenNest support): {text}")

    async def display_name(self, user: str) -> str:
        return "You" if user == USER else "Support"

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        await self.to_customer(thread, await self.display_name(agent), text)


async def run_local_chat(
    settings: Settings,
    redis_url: str,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    log_file: Path | None = None,
) -> int:
    """The chat; `log_file` is where Sarah's log goes meanwhile, said in the first line."""
    outbox = TerminalOutbox(stdout)
    sarah = Sarah(settings, redis_url, outbox=outbox)
    await sarah.start()
    try:
        if log_file is not None:
            stdout.write(f"(Sarah's log for this chat: {_shown(log_file)})\n")
        thread_ts = await sarah.parts.inbox.latest_thread(CHANNEL, USER)
        if thread_ts:
            turns = await sarah.parts.store.episode(ThreadRef(CHANNEL, thread_ts))
            stdout.write(
                f"Welcome back: continuing your conversation ({len(turns)} earlier messages). "
                "/reset starts a fresh one.\n"
            )
        else:
            thread_ts = _now()
            stdout.write("Hi, I'm Sarah from ZenNest support. " + HELP + "\n")
        stdout.flush()
        await _chat(sarah, outbox, ThreadRef(CHANNEL, thread_ts), stdin, stdout)
    finally:
        await sarah.stop()
    return 0


async def _chat(sarah: Sarah, outbox: TerminalOutbox, thread: ThreadRef, stdin: TextIO, stdout: TextIO) -> None:
    loop = asyncio.get_running_loop()
    interactive = stdin.isatty()
    while True:
        if interactive:
            stdout.write("You: ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:  # end of input
            return
        text = line.strip()
        if text in ("/quit", "/exit"):
            return
        if text == "/help":
            stdout.write(HELP + "\n")
            continue
        if text == "/reset":
            await sarah.parts.handoff.withdraw(thread, USER)
            thread = ThreadRef(CHANNEL, _now())
            stdout.write("Fresh start: Sarah has set the earlier conversation aside.\n")
            stdout.flush()
            continue
        if not text:
            continue
        kind, text = (Kind.COMMAND, "/sarah human") if text == "/human" else (Kind.DM, text)
        outbox.said.clear()
        await sarah.parts.inbox.put(InboundMessage(thread=thread, ts=_now(), user=USER, text=text, kind=kind))
        if await sarah.parts.ownership.owner(thread) not in (Owner.BOT, Owner.RESOLVED):
            stdout.write(
                "(The support team has this conversation: in Slack your message goes to them. "
                "/reset starts a fresh one with Sarah.)\n"
            )
            stdout.flush()
            continue
        try:
            await asyncio.wait_for(outbox.said.wait(), REPLY_WAIT_SECONDS)
        except TimeoutError:
            stdout.write("(Sarah did not answer in time; your message is kept and will be answered.)\n")


def _shown(path: Path) -> str:
    """The path relative to here when it is below here (as SARAH_DATA_DIR usually is), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _now() -> str:
    return f"{time.time():.6f}"
