"""What the ingress does in Redis for one message, in one round trip when Redis is one server.

Before Slack is acknowledged, a message must, in this order: find the DM conversation it belongs to,
count against its sender's limits (handlers/store/limits.py), join the inbox stream unless it was seen
(handlers/store/inbox.py), and be queued in its thread (handlers/store/thread_store.py). Each step is a Lua
script of its own in its own cluster slot (`{user:U}`, `{inbox}`, the thread's). On one Redis server
slots do not matter, and the door runs the four as one script, lua/front_door.lua: the same four
files as its pieces, each a local function of its own KEYS and ARGV, which the loader cuts out of the
whole by their declared counts (handlers/store/scripts.py). In a Redis Cluster the steps keep their
own round trips, as before (dm, limits, then the stream and the thread together).

A top-level DM's conversation is known only once its step ran, but the step's keys must be named
first. So the door guesses: the conversation this process last saw the person in, or a new one
opened by this message. The script goes on only when the guess was right ('moved' otherwise, with
what the step found), so the thread keys it was given are the right ones; a wrong guess (another
process saw the person since, the conversation went idle) costs one or two round trips more.
A reply in a DM thread belongs to the conversation of the message it replies to, which never changes
once known: known answers are remembered per process, others checked inside the script.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from handlers.messages import InboundMessage, Kind
from handlers.store.inbox import Inbox
from handlers.store.limits import Limits, Verdict, stored_size
from handlers.store.scripts import Script, ScriptCall, run_together
from handlers.store.thread_store import ThreadStore
from handlers.store.values import as_text

log = logging.getLogger(__name__)

DM_THREADS_REMEMBERED = 50_000  # per process: ~10 MB at most


class Counting(StrEnum):
    """How a message counts against its sender's limits."""

    SKIP = "skip"  # Slack's retry of an event, or the support channel's relay: never counted
    COUNT = "count"  # counted as opening a thread (a DM, whose index says if it is new; a top-level mention)
    IF_OURS = "if_ours"  # a channel thread reply: counted only in a thread Sarah is part of
    OPENS_UNLESS_OURS = "opens_unless_ours"  # a mention inside a thread: it opens one unless Sarah is part of it


@dataclass(frozen=True, slots=True)
class Admitted:
    message: InboundMessage  # as queued: with its DM conversation
    verdict: Verdict  # not OK: over a limit, so not queued
    queued: bool  # joined the stream now (False: seen before, a Slack retry or a duplicate)


class Door:
    """Built once per ingress process from the parts whose scripts it runs."""

    def __init__(
        self,
        redis: Redis,
        *,
        inbox: Inbox,
        store: ThreadStore,
        limits: Limits,
        clock: Callable[[], float] = time.time,
        remembered: int = DM_THREADS_REMEMBERED,
        one_script: bool | None = None,
    ) -> None:
        """`one_script`: run the steps as one script (None: unless `redis` is a Redis Cluster client;
        False runs the cluster's way on one server, as the tests do to compare the two)."""
        self._redis = redis
        self._inbox, self._store, self._limits = inbox, store, limits
        self._clock = clock
        self._one_server = not isinstance(redis, RedisCluster) if one_script is None else one_script
        self._remembered = remembered
        self._threads: dict[tuple[str, str, str], str] = {}  # (user, channel, thread ts) → conversation
        self._current: dict[tuple[str, str], str] = {}  # (user, channel) → the conversation last seen
        self._as_one = Script(redis, "front_door")

    @property
    def inbox_cap(self) -> int:
        """STREAM_MAX_LENGTH: how many unanswered messages the inbox holds before it refuses more."""
        return self._inbox.max_length

    async def admit(self, message: InboundMessage, counting: Counting) -> Admitted:
        """Count `message` and queue it (unless over a limit), in its DM conversation if it is a DM.
        Raises what Redis raises (Slack then gets a 500 and retries); nothing is half done that a
        retry would not finish."""
        now = self._clock()
        if self._one_server:
            admitted = await self._admit_as_one(message, counting, now)
        else:
            admitted = await self._admit_step_by_step(message, counting, now)
        self._learn(admitted.message)
        return admitted

    # -- one server: one script -----------------------------------------------------------------------

    async def _admit_as_one(self, message: InboundMessage, counting: Counting, now: float) -> Admitted:
        step, guess = self._guess(message)
        shaped = _in_conversation(message, guess)
        reply = await self._run_as_one(shaped, step, guess, counting, now)
        if as_text(reply[0]) == "moved":
            status, found = as_text(reply[1]), as_text(reply[2] or b"")
            if status == "idle":  # the conversation went idle: whether to keep it is decided in Python
                found = await self._store.dm_conversation(message.user, message.thread.channel, message.ts, now)
            log.debug("a DM's conversation was not the one guessed", extra={"thread_key": message.thread.key})
            shaped = _in_conversation(message, found)
            reply = await self._run_as_one(shaped, "", found, counting, now)
        verdict = Verdict(as_text(reply[0]))
        if verdict is not Verdict.OK:
            return Admitted(shaped, verdict, queued=False)
        entry_id, accepted = reply[2], reply[3]
        self._store.accepted(shaped, accepted)
        return Admitted(shaped, verdict, queued=self._inbox.put_reply(entry_id))

    async def _run_as_one(self, message: InboundMessage, step: str, guess: str, counting: Counting, now: float) -> Any:
        channel = message.thread.channel
        dm = self._store.dm_call(message.user, channel, message.ts if step == "top" else message.thread.thread_ts, now)
        limits = self._limits.check_call(
            message.user,
            message.thread.key,
            opens_thread=counting is Counting.COUNT,
            now=now,
            size=stored_size(message),
        )
        put = self._inbox.put_call(message)
        queue = self._store.accept_call(message, "", "", now, take_lease=False)
        return await self._as_one.with_pieces([step, guess, counting.value], [dm, limits, put, queue]).run()

    # -- Redis Cluster: a round trip per slot -----------------------------------------------------------

    async def _admit_step_by_step(self, message: InboundMessage, counting: Counting, now: float) -> Admitted:
        step, guess = self._guess(message)
        channel = message.thread.channel
        if step == "top":
            guess = await self._store.dm_conversation(message.user, channel, message.ts, now)
        elif step == "thread":
            guess = await self._store.dm_thread_conversation(message.user, channel, message.thread.thread_ts) or ""
        message = _in_conversation(message, guess)
        verdict = await self._count(message, counting, now)
        if verdict is not Verdict.OK:
            return Admitted(message, verdict, queued=False)
        queue = self._store.accept_call(message, "", "", now, take_lease=False)
        calls: list[ScriptCall] = [self._inbox.put_call(message), queue]
        entry_id, accepted = await run_together(self._redis, calls, raise_on_error=False)
        if isinstance(entry_id, Exception):
            raise entry_id  # not in the stream: Slack is answered 500 and retries
        if isinstance(accepted, Exception):  # loses nothing: the worker that reads the entry queues it
            log.warning(
                "could not queue a message in its thread at the door (%s); the worker will", type(accepted).__name__
            )
        else:
            self._store.accepted(message, accepted)
        return Admitted(message, verdict, queued=self._inbox.put_reply(entry_id))

    async def _count(self, message: InboundMessage, counting: Counting, now: float) -> Verdict:
        if counting is Counting.SKIP:
            return Verdict.OK
        opens = counting is Counting.COUNT
        if not opens:
            ours = await self._store.exists(message.thread)
            if counting is Counting.IF_OURS and not ours:
                return Verdict.OK  # a thread Sarah is not part of: not hers to count (the worker drops it)
            opens = counting is Counting.OPENS_UNLESS_OURS and not ours
        return await self._limits.check_message(
            message.user, message.thread.key, opens_thread=opens, now=now, size=stored_size(message)
        )

    # -- DM conversations ----------------------------------------------------------------------------

    def _guess(self, message: InboundMessage) -> tuple[str, str]:
        """The DM step to run ('top', 'thread' or '' for none) and the conversation guessed ('': the
        message's own thread)."""
        if message.kind is not Kind.DM:
            return "", ""
        user, channel, thread_ts = message.user, message.thread.channel, message.thread.thread_ts
        if thread_ts == message.ts:
            return "top", self._current.get((user, channel), message.ts)
        known = self._threads.get((user, channel, thread_ts))
        return ("", known) if known is not None else ("thread", "")

    def _learn(self, message: InboundMessage) -> None:
        """Remember what a DM's conversation turned out to be: Sarah answers a top-level message in
        its own thread, so replies there belong to the same conversation."""
        if message.kind is not Kind.DM:
            return
        user, channel, thread = message.user, message.thread.channel, message.thread
        conversation = thread.conversation_ts or thread.thread_ts
        if thread.thread_ts == message.ts:
            if len(self._current) >= self._remembered and (user, channel) not in self._current:
                del self._current[next(iter(self._current))]  # the person seen longest ago
            self._current[(user, channel)] = conversation
            self._remember(user, channel, message.ts, conversation)
        elif thread.conversation_ts:
            self._remember(user, channel, thread.thread_ts, conversation)
        # a thread that is its own conversation (an assistant thread) is not remembered: a
        # conversation learnt later (by another process) must be found

    def _remember(self, user: str, channel: str, thread_ts: str, conversation: str) -> None:
        if len(self._threads) >= self._remembered:
            del self._threads[next(iter(self._threads))]  # the oldest answer
        self._threads[(user, channel, thread_ts)] = conversation


def _in_conversation(message: InboundMessage, conversation: str) -> InboundMessage:
    """`message` as part of the DM conversation `conversation` ('' or its own thread: none)."""
    own = conversation in ("", message.thread.thread_ts)
    thread = dataclasses.replace(message.thread, conversation_ts="" if own else conversation)
    return message if thread == message.thread else dataclasses.replace(message, thread=thread)
