"""A thread's memory in Redis: its turns, its queue of unanswered messages, its lease and its state.

Keys (all share the hash tag `{channel:thread_ts}`, so every script below touches one cluster slot):

    sarah:{C:ts}:state     HASH  who owns the thread, failure count, the "typing…" placeholder …
    sarah:{C:ts}:turns     LIST  JSON turns, oldest first, capped at MAX_STORED_TURNS
    sarah:{C:ts}:queue     HASH  message ts → queued message not answered yet
    sarah:{C:ts}:answered  SET   ts of every message already answered (the "reply posted" marker)
    sarah:{C:ts}:lease     STRING  the token of the one worker answering this thread right now
    sarah:{C:ts}:failed    SET   what already counted as a failure (see handlers/store/ownership.py)
    sarah:{C:ts}:held      HASH  message ts → "<held at, ms> <payload>": replies that came before
                                 the thread's opening message (see `accept`); its TTL is
                                 twice HOLD_UNKNOWN_THREAD_SECONDS, not the retention TTL

Every key but the lease carries the retention TTL, refreshed on activity. Each read-modify-write is
one Lua script that receives all its keys in KEYS.

Per person (hash tag `{user:U…}`, written by handlers/store/limits.py at the ingress):

    sarah:{user:U}:threads  ZSET  thread key → the person's last message in a thread they opened:
                                  how `/sarah` finds "your thread" and `forget` finds what to delete
    sarah:{user:U}:dm       HASH  their current DM conversation, `c:<channel>` → "<first ts> <last
                                  activity>", and `t:<channel>:<ts>` → that conversation for every
                                  top-level message that joined it (Sarah answers in its thread, so a
                                  reply there belongs to the same conversation); see `dm_conversation`
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis

from handlers.hooks import NO_HOOKS, ThreadStoreHooks
from handlers.messages import InboundMessage, Kind, SharedFile, ThreadRef
from handlers.store.keys import dm_conversations_key, thread_keys, user_threads_key
from handlers.store.scripts import Script, ScriptCall, run_together
from handlers.store.values import (
    Accepted,
    Committed,
    Pending,
    Release,
    SendCheck,
    Snapshot,
    StoredTurn,
    as_text,
    episode_of,
    located,
    parse_thread_key,
)
from handlers.thread_state import Owner, ThreadState

log = logging.getLogger(__name__)

MAX_FILES_PER_THREAD = 20  # the newest are kept for the card


class ThreadStore:
    """Reads and writes one thread's keys; every multi-key change is a single Lua script."""

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int,
        max_turns: int,
        lease_seconds: float,
        hold_unknown_thread_seconds: float = 120,
        dm_idle_seconds: float = 120 * 60,
        hooks: ThreadStoreHooks = NO_HOOKS,
    ) -> None:
        self._redis = redis
        self._hooks = hooks  # told when a hand-off card is posted
        self._dm_idle = dm_idle_seconds
        self._dm = Script(redis, "dm_conversation")
        self._hold_ms = int(hold_unknown_thread_seconds * 1000)
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._lease_ms = int(lease_seconds * 1000)
        self._accept = Script(redis, "thread_accept")
        self._renew = Script(redis, "thread_renew_lease")
        self._release = Script(redis, "thread_release_if_idle")
        self._begin = Script(redis, "thread_begin")
        self._commit = Script(redis, "thread_commit")
        self._send_check = Script(redis, "thread_send_check")
        self._add_history = Script(redis, "thread_add_history")
        self._add_files = Script(redis, "thread_add_files")

    async def accept(
        self, message: InboundMessage, entry_id: str, token: str, now: float, *, take_lease: bool = True
    ) -> Accepted:
        """Queue `message` in its thread (idempotent: by its ts) and, with `take_lease`, try to take the
        thread's lease. The ingress queues without the lease before it acknowledges Slack, so a later
        message's worker always finds the earlier ones of its thread queued, whichever worker read them."""
        call = self.accept_call(message, entry_id, token, now, take_lease=take_lease)
        return self.accepted(message, await call.run())

    def accept_call(
        self, message: InboundMessage, entry_id: str, token: str, now: float, *, take_lease: bool = True
    ) -> ScriptCall:
        """`accept` as a call to send in a pipeline (the ingress queues and XADDs in one round trip);
        `accepted` reads its reply."""
        keys = thread_keys(message.thread)
        payload = json.dumps({"m": message.to_json(), "e": entry_id}, separators=(",", ":"))
        return self._accept.call(
            [keys.state, keys.queue, keys.answered, keys.lease, keys.held],
            [
                message.ts,
                payload,
                message.kind.value,
                token,
                self._lease_ms if take_lease else 0,
                self._ttl,
                now,
                "" if message.kind is Kind.FEEDBACK else message.user,  # a press on a thread that is gone opens none
                self._hold_ms,
                int(now * 1000),
                message.thread.thread_ts if message.kind is Kind.DM else "",
            ],
        )

    @staticmethod
    def accepted(message: InboundMessage, reply: Any) -> Accepted:
        """What `accept`'s script answered, logged where it is worth a line."""
        status, promoted, dropped = reply
        accepted = Accepted(as_text(status))
        if accepted is Accepted.HELD:
            log.info(
                "held a reply that came before its thread's opening message", extra={"thread_key": message.thread.key}
            )
        if int(promoted):
            log.info(
                "answering %d held replies after the thread's opening message",
                int(promoted),
                extra={"thread_key": message.thread.key},
            )
        if int(dropped):
            log.info(
                "dropped %d held replies: not ours (older than the opening message, or held too long)",
                int(dropped),
                extra={"thread_key": message.thread.key},
            )
        return accepted

    async def dm_conversation(self, user: str, channel: str, ts: str, now: float) -> str:
        """The ts of the DM conversation that `user`'s top-level message `ts` belongs to.

        Top-level DMs continue the person's current conversation until it has been idle longer than
        DM_CONVERSATION_IDLE_MINUTES; then this message opens a new one, unless the conversation is
        with the support team (waiting or claimed): a customer waiting for a person is never moved
        to a fresh conversation with Sarah. Resolved and reset conversations need no new one here:
        the next message opens a new episode in them (fresh memory and failure count). Atomic per
        person, and the same answer every time for the same message (the door's script may have
        asked already; Slack retries)."""
        status, anchor = await self.dm_call(user, channel, ts, now).run()
        if as_text(status) == "idle":
            owner = await self._redis.hget(thread_keys(ThreadRef(channel, as_text(anchor))).state, "owner")
            mode = "keep" if owner is not None and as_text(owner) in ("waiting", "human") else "replace"
            status, anchor = await self.dm_call(user, channel, ts, now, mode=mode, anchor=as_text(anchor)).run()
        if as_text(status) == "new":
            log.info("a DM opened a new conversation", extra={"thread_key": f"{channel}:{as_text(anchor)}"})
        return as_text(anchor)

    def dm_call(
        self, user: str, channel: str, ts: str, now: float, *, mode: str = "check", anchor: str = ""
    ) -> ScriptCall:
        """A step of `dm_conversation` as a call: {status, conversation ts}. With mode 'check' the
        status is 'joined', 'new' or 'idle' (then `dm_conversation` decides 'keep' or 'replace' for
        `anchor`, the conversation judged idle)."""
        args: list[Any] = [channel, ts, now, self._dm_idle, self._ttl, mode, anchor]
        return self._dm.call([dm_conversations_key(user)], args)

    async def dm_thread_conversation(self, user: str, channel: str, thread_ts: str) -> str | None:
        """The conversation a DM thread belongs to: the thread of a top-level message that joined one
        (Sarah answered it there). None: the thread is its own conversation (an assistant thread)."""
        known = await self._redis.hget(dm_conversations_key(user), f"t:{channel}:{thread_ts}")
        return as_text(known) if known is not None else None

    async def locate(self, thread: ThreadRef) -> ThreadRef:
        """`thread` pointing at where Sarah answers now (see `located`)."""
        if not thread.is_dm:
            return thread
        value = await self._redis.hget(thread_keys(thread).state, "reply_ts")
        return located(thread, as_text(value) if value is not None else "")

    async def begin(self, thread: ThreadRef, *, tag: str, now: float, lease: str = "") -> Snapshot:
        """A pass's one read (state, queue, turns), recording `tag` as the reply tag when messages
        wait, no earlier pass's tag is recorded and the thread's lease is `lease` (when given)."""
        call = self._begin_call(thread, tag, now, lease)
        return self._snapshot(await call.run(), tag, now)

    async def accept_and_begin(
        self, message: InboundMessage, entry_id: str, token: str, now: float, *, tag: str
    ) -> tuple[Accepted, Snapshot | None]:
        """`accept` (taking the lease) and, in the same round trip, the first pass's `begin` under
        that lease: the snapshot when the lease was taken, else None."""
        accept = self.accept_call(message, entry_id, token, now)
        begin = self._begin_call(message.thread, tag, now, token)
        accepted_reply, begun = await run_together(self._redis, [accept, begin], in_order=True)
        accepted = self.accepted(message, accepted_reply)
        return accepted, self._snapshot(begun, tag, now) if accepted is Accepted.LEASED else None

    def _begin_call(self, thread: ThreadRef, tag: str, now: float, lease: str) -> ScriptCall:
        keys = thread_keys(thread)
        return self._begin.call([keys.state, keys.queue, keys.turns, keys.lease], [tag, f"{now:.3f}", self._ttl, lease])

    @staticmethod
    def _snapshot(reply: Any, tag: str, now: float) -> Snapshot:
        state, queue, turns, tagged = reply
        return Snapshot(
            ThreadState.from_redis(_pairs(state)),
            _pending(_pairs(queue)),
            [StoredTurn.from_json(item) for item in turns],
            tag if int(tagged) else "",
            float(f"{now:.3f}") if int(tagged) else 0.0,
        )

    async def send_check(self, thread: ThreadRef, answering: Iterable[str], *, lease: str = "") -> SendCheck:
        """The owner, the queue and (with `lease`, the pass's token) whether the lease is still the
        pass's own, read together right before a send; `answering` are the ts of the messages the
        send answers (their bodies are not read again)."""
        keys = thread_keys(thread)
        owner, ours, waiting, *arrived = await self._send_check(
            keys=[keys.state, keys.queue, keys.lease], args=[lease, *answering]
        )
        return SendCheck(Owner(as_text(owner) or Owner.BOT), int(waiting), _pending(_pairs(arrived)), bool(int(ours)))

    async def pending(self, thread: ThreadRef) -> list[Pending]:
        """Unanswered messages of the thread, oldest first."""
        raw = await self._redis.hgetall(thread_keys(thread).queue)
        return _pending({as_text(ts): as_text(value) for ts, value in raw.items()})

    async def history(self, thread: ThreadRef) -> list[StoredTurn]:
        raw = await self._redis.lrange(thread_keys(thread).turns, 0, -1)
        return [StoredTurn.from_json(item) for item in raw]

    async def episode(self, thread: ThreadRef) -> list[StoredTurn]:
        """The customer's and Sarah's turns since the last episode marker (a hand-back or a reset)."""
        return episode_of(await self.history(thread))

    async def state(self, thread: ThreadRef) -> ThreadState:
        raw = await self._redis.hgetall(thread_keys(thread).state)
        return ThreadState.from_redis({as_text(k): as_text(v) for k, v in raw.items()})

    async def set_fields(self, thread: ThreadRef, **fields: str | int | float) -> None:
        key = thread_keys(thread).state
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=dict(fields))  # type: ignore[arg-type]
            pipe.expire(key, self._ttl)
            await pipe.execute()
        if "card_ts" in fields:
            await self._hooks.card_posted(thread)

    async def commit(
        self,
        thread: ThreadRef,
        answered: list[Pending],
        turns: list[StoredTurn],
        now: float,
        *,
        release: str = "",
        lease: str = "",
    ) -> Committed:
        """Record the answer: the new turns, the answered markers, and the queue emptied of them.

        With `lease` or `release` (the pass's lease token), nothing is written unless the lease is
        still the pass's own (`Release.LOST`). With `release`, the lease is also given up in the same
        step when nothing else waits, as `release_if_idle` would: what happened to it is returned,
        and when messages wait (`Release.MORE`), the next pass's read, as `begin` makes it."""
        keys = thread_keys(thread)
        tag = uuid.uuid4().hex if release else ""
        reply = await self._commit(
            keys=[keys.state, keys.turns, keys.queue, keys.answered, keys.lease],
            args=[
                self._ttl,
                self._max_turns,
                now,
                release or lease,
                "1" if release else "0",
                tag,
                len(answered),
                *[p.message.ts for p in answered],
                *[t.to_json() for t in turns],
            ],
        )
        if as_text(reply[0]) == Release.LOST:
            return Committed(Release.LOST)
        entry_ids = tuple(as_text(entry) for entry in reply[1])
        if not release:
            return Committed(None, entry_ids=entry_ids)
        released = Release(as_text(reply[0]))
        following = self._snapshot(reply[2], tag, now) if released is Release.MORE else None
        return Committed(released, following, entry_ids)

    async def add_history(self, thread: ThreadRef, turns: list[StoredTurn]) -> bool:
        """Store the thread's earlier messages before any turn of Sarah's; once per thread (False when
        they were stored already)."""
        keys = thread_keys(thread)
        added = await self._add_history(
            keys=[keys.state, keys.turns], args=[self._ttl, self._max_turns, *[t.to_json() for t in turns]]
        )
        return int(added) >= 0

    async def add_files(self, thread: ThreadRef, files: list[SharedFile]) -> None:
        """Remember the files the customer shared in the thread (names and links only, each once)."""
        if files:
            payload = [json.dumps({"name": f.name, "permalink": f.permalink}) for f in files]
            await self._add_files(keys=[thread_keys(thread).state], args=[self._ttl, MAX_FILES_PER_THREAD, *payload])

    async def exists(self, thread: ThreadRef) -> bool:
        """Has Sarah a state for this thread (is she part of it)?"""
        return bool(await self._redis.exists(thread_keys(thread).state))

    async def increment(self, thread: ThreadRef, field: str) -> int:
        """Add one to a counter in the thread's state (e.g. reminders sent); returns the new value."""
        return int(await self._redis.hincrby(thread_keys(thread).state, field, 1))

    async def own_threads(self, user: str, channel: str) -> list[ThreadRef]:
        """Threads `user` opened in `channel`, the one they wrote in last first (from the index)."""
        members = await self._redis.zrevrange(user_threads_key(user), 0, 999)
        prefix = channel + ":"
        return [parse_thread_key(as_text(m)) for m in members if as_text(m).startswith(prefix)]

    async def holds_lease(self, thread: ThreadRef, token: str) -> bool:
        """Is the thread's lease `token` right now (checked before a post that no commit precedes)?"""
        return as_text(await self._redis.get(thread_keys(thread).lease) or b"") == token

    async def renew_lease(self, thread: ThreadRef, token: str) -> bool:
        return bool(await self._renew(keys=[thread_keys(thread).lease], args=[token, self._lease_ms]))

    async def release_if_idle(self, thread: ThreadRef, token: str) -> Release:
        keys = thread_keys(thread)
        return Release(as_text(await self._release(keys=[keys.queue, keys.lease], args=[token])))


def _pairs(flat: list[Any]) -> dict[str, str]:
    """A Lua HGETALL reply (a flat list of field, value, …) as a dict of text."""
    return {as_text(flat[i]): as_text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


def _pending(queue: dict[str, str]) -> list[Pending]:
    """A thread's queue hash as its messages, oldest first."""
    items = []
    for ts, value in queue.items():
        data = json.loads(value)
        items.append((ts, Pending(InboundMessage.from_json(data["m"]), data["e"])))
    return [pending for _, pending in sorted(items, key=lambda item: _ts_order(item[0]))]


def _ts_order(ts: str) -> tuple[int, int]:
    """Slack's ts in time order; a malformed one (queued before the ingress checked them) sorts
    first instead of failing every pass of its thread."""
    seconds, _, micros = ts.partition(".")
    if not (seconds.isdigit() and (micros.isdigit() or not micros)):
        return (0, 0)
    return (int(seconds), int(micros or 0))
