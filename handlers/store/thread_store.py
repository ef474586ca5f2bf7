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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis

from handlers.hooks import NO_HOOKS, ThreadStoreHooks
from handlers.messages import InboundMessage, Kind, SharedFile, ThreadRef
from handlers.store.keys import ThreadKeys, dm_conversations_key, thread_keys, user_threads_key
from handlers.store.scripts import ScriptCall, as_function, run_together
from handlers.store.thread_state import Owner, ThreadState, shared_files
from handlers.text_clean import clean

log = logging.getLogger(__name__)

_ACCEPT = """
-- KEYS: state, queue, answered, lease, held
-- ARGV: ts, payload, kind, token, lease_ms, ttl, now, customer, hold_ms, now_ms, reply_ts
-- customer '': the message never opens a thread (a feedback press): with no state it is not ours.
-- A thread reply in a thread with no state yet may have overtaken the thread's opening message
-- (Slack retrying the @mention): it is held, and moved into the queue by the opening message if
-- that comes within hold_ms and the reply is newer than it. Returns {status, promoted, dropped}.
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'done', 0, 0} end
local hold_ms = tonumber(ARGV[9])
local now_ms = tonumber(ARGV[10])
if ARGV[3] == 'thread_reply' then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    if hold_ms <= 0 then return {'not_ours', 0, 0} end
    local earlier = redis.call('HGET', KEYS[5], ARGV[1])
    if earlier then
      -- held before (a redelivery): past its time it is not ours after all
      if tonumber(string.match(earlier, '^(%d+) ')) + hold_ms < now_ms then
        redis.call('HDEL', KEYS[5], ARGV[1])
        return {'not_ours', 0, 1}
      end
      return {'held', 0, 0}
    end
    -- replies held too long are dropped here (and counted, so the drop is logged); the key lives
    -- twice the hold so that they are still there to count, then expires with whatever is left
    local dropped = 0
    local items = redis.call('HGETALL', KEYS[5])
    for i = 1, #items, 2 do
      if tonumber(string.match(items[i + 1], '^(%d+) ')) + hold_ms < now_ms then
        redis.call('HDEL', KEYS[5], items[i])
        dropped = dropped + 1
      end
    end
    redis.call('HSET', KEYS[5], ARGV[1], ARGV[10] .. ' ' .. ARGV[2])
    if redis.call('PTTL', KEYS[5]) < 2 * hold_ms then redis.call('PEXPIRE', KEYS[5], 2 * hold_ms) end
    return {'held', 0, dropped}
  end
else
  if ARGV[8] == '' and redis.call('EXISTS', KEYS[1]) == 0 then return {'not_ours', 0, 0} end
  if redis.call('HSETNX', KEYS[1], 'created_at', ARGV[7]) == 1 then
    redis.call('HSET', KEYS[1], 'owner', 'bot', 'customer', ARGV[8], 'kind', ARGV[3])
  end
  -- a DM conversation is answered in the thread of the customer's latest message
  if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'reply_ts', ARGV[11]) end
end
local promoted, dropped = 0, 0
if ARGV[3] ~= 'thread_reply' and redis.call('EXISTS', KEYS[5]) == 1 then
  local sec, frac = string.match(ARGV[1], '^(%d+)%.?(%d*)$')
  sec, frac = tonumber(sec) or 0, tonumber(frac) or 0
  local items = redis.call('HGETALL', KEYS[5])
  for i = 1, #items, 2 do
    local rsec, rfrac = string.match(items[i], '^(%d+)%.?(%d*)$')
    rsec, rfrac = tonumber(rsec) or 0, tonumber(rfrac) or 0
    local held_at, payload = string.match(items[i + 1], '^(%d+) (.*)$')
    local newer = rsec > sec or (rsec == sec and rfrac > frac)
    if newer and tonumber(held_at) + hold_ms >= now_ms then
      redis.call('HSET', KEYS[2], items[i], payload)
      promoted = promoted + 1
    else
      dropped = dropped + 1
    end
  end
  redis.call('DEL', KEYS[5])
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
-- lease_ms 0: queue only (the ingress, so that a message is in its thread's queue before Slack's
-- acknowledgement; the worker that reads its stream entry takes the lease). The ingress does not
-- know the stream entry id yet (the XADD goes in the same round trip): it never overwrites the
-- message as a worker queued it, with its entry id.
if ARGV[5] == '0' then
  redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
  return {'queued', promoted, dropped}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[5]) then return {'leased', promoted, dropped} end
-- the lease is already this call's own: a retry of this script after its reply was lost
if redis.call('GET', KEYS[4]) == ARGV[4] then return {'leased', promoted, dropped} end
return {'queued', promoted, dropped}
"""

_RENEW = """
-- KEYS: lease   ARGV: token, lease_ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE_IF_IDLE = """
-- KEYS: queue, lease   ARGV: token
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'lost' end
if redis.call('HLEN', KEYS[1]) > 0 then return 'more' end
redis.call('DEL', KEYS[2])
return 'released'
"""

_COMMIT = """
-- KEYS: state, turns, queue, answered, lease
-- ARGV: ttl, max_turns, now, lease token ('': not checked), release ('1': give the lease up),
--       next tag, n_answered, ts…, turn json…
-- With a token, the lease is checked first: a commit under a lease that is not ours any more (it
-- expired while this worker was cut off, and another may have answered) writes nothing: {'lost'}.
-- With release, the lease is given up in the same step when nothing else waits (the answer was the
-- pass's last act): returns 'released' or 'more' (messages arrived: keep answering). With 'more'
-- comes the next pass's read (`begin`, recording the next tag), saving it a round trip.
-- Every reply is {status, entry ids[, next read]}: the stream entries of the answered messages as the
-- queue holds them now (a worker may have read the entry of a message the pass took from the
-- ingress's copy, which has none): the pass acknowledges them too, so none waits for XAUTOCLAIM.
if ARGV[4] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[4] then return {'lost', {}} end
local n = tonumber(ARGV[7])
local entries = {}
for i = 8, 7 + n do
  local queued = redis.call('HGET', KEYS[3], ARGV[i])
  local entry = queued and string.match(string.sub(queued, -64), '"e":"([^"]+)"}$')
  if entry then entries[#entries + 1] = entry end
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('SADD', KEYS[4], ARGV[i])
end
for i = 8 + n, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('HDEL', KEYS[1], 'placeholder', 'reply_pass', 'reply_since', 'reply_parts', 'reply_at')
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end  -- a key that does not exist stays so
if ARGV[5] ~= '1' then return {'', entries} end
if redis.call('HLEN', KEYS[3]) > 0 then
  return {'more', entries, begin({KEYS[1], KEYS[3], KEYS[2], KEYS[5]}, {ARGV[6], ARGV[3], ARGV[1], ARGV[4]})}
end
redis.call('DEL', KEYS[5])
return {'released', entries}
"""

_BEGIN = """
-- KEYS: state, queue, turns, lease   ARGV: tag, now, ttl, lease token ('': no lease to check)
-- A pass's one read: the state as it was, the queue and the stored turns. When messages wait, no
-- answer is being posted yet and the lease is the pass's own, the pass's reply tag is recorded
-- here, before anything is posted with it (handlers/outbox.py: one visible answer across a crash),
-- with the thread the answer goes to (reply_at: a DM conversation's latest message moves on).
-- Returns {state, queue, turns, tagged}.
local state = redis.call('HGETALL', KEYS[1])
local queue = redis.call('HGETALL', KEYS[2])
local turns = redis.call('LRANGE', KEYS[3], 0, -1)
local tagged = 0
local ours = ARGV[4] == '' or redis.call('GET', KEYS[4]) == ARGV[4]
if ours and #queue > 0 and redis.call('HEXISTS', KEYS[1], 'reply_pass') == 0 then
  local at = redis.call('HGET', KEYS[1], 'reply_ts') or ''
  redis.call('HSET', KEYS[1], 'reply_pass', ARGV[1], 'reply_since', ARGV[2], 'reply_at', at)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  tagged = 1
end
return {state, queue, turns, tagged}
"""

_SEND_CHECK = """
-- KEYS: state, queue, lease   ARGV: lease token ('': not checked), the ts of the messages being answered
-- What is checked right before a send: the owner, whether the lease is still the pass's own, how
-- many messages wait in the queue, and those of them that arrived since (ts, value, ...). The ones
-- being answered are not sent back: they are read already, and parsing them again was most of the
-- check's cost in the client.
local answering = {}
for i = 2, #ARGV do answering[ARGV[i]] = true end
local ours = (ARGV[1] == '' or redis.call('GET', KEYS[3]) == ARGV[1]) and 1 or 0
local waiting = redis.call('HKEYS', KEYS[2])
local reply = {redis.call('HGET', KEYS[1], 'owner') or '', ours, #waiting}
for _, ts in ipairs(waiting) do
    if not answering[ts] then
        reply[#reply + 1] = ts
        reply[#reply + 1] = redis.call('HGET', KEYS[2], ts)
    end
end
return reply
"""


_DM_CONVERSATION = """
-- KEYS: the person's dm hash
-- ARGV: channel, ts, now, idle_seconds, ttl, mode ('check' | 'keep' | 'replace'), anchor judged idle
-- Returns {status, conversation ts}: 'joined' (continues), 'new' (this message opens one), or
-- 'idle' (mode 'check' only: the caller decides between 'keep' and 'replace' for that anchor).
local field, alias = 'c:' .. ARGV[1], 't:' .. ARGV[1] .. ':' .. ARGV[2]
local known = redis.call('HGET', KEYS[1], alias)
if known then return {'joined', known} end  -- mapped before: the gate, then the listener; Slack's retries
local now = tonumber(ARGV[3])
local raw = redis.call('HGET', KEYS[1], field)
if raw then
  local anchor, last = string.match(raw, '^(%S+) (%S+)$')
  last = tonumber(last) or 0
  local idle = now - last > tonumber(ARGV[4])
  if anchor and (not idle or (ARGV[6] == 'keep' and anchor == ARGV[7])) then
    if now > last then last = now end
    redis.call('HSET', KEYS[1], field, anchor .. ' ' .. last, alias, anchor)
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return {'joined', anchor}
  end
  if anchor and ARGV[6] == 'check' then return {'idle', anchor} end
end
redis.call('HSET', KEYS[1], field, ARGV[2] .. ' ' .. ARGV[3], alias, ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {'new', ARGV[2]}
"""


_ADD_HISTORY = """
-- KEYS: state, turns   ARGV: ttl, max_turns, turn json…
-- The thread's earlier messages, read once before Sarah's first answer in it (history_read marks it).
if redis.call('HSETNX', KEYS[1], 'history_read', 1) == 0 then return -1 end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if #ARGV > 2 then
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #ARGV - 2
"""


_ADD_FILES = """
-- KEYS: state   ARGV: ttl, max_files, file json…
-- Files the customer shared (name and permalink, never their content), for the hand-off card.
local files = cjson.decode(redis.call('HGET', KEYS[1], 'files') or '[]')
local seen = {}
for _, f in ipairs(files) do seen[f.permalink .. '|' .. f.name] = true end
for i = 3, #ARGV do
  local f = cjson.decode(ARGV[i])
  if not seen[f.permalink .. '|' .. f.name] then
    seen[f.permalink .. '|' .. f.name] = true
    table.insert(files, f)
  end
end
while #files > tonumber(ARGV[2]) do table.remove(files, 1) end
redis.call('HSET', KEYS[1], 'files', cjson.encode(files))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #files
"""
MAX_FILES_PER_THREAD = 20  # the newest are kept for the card


class Accepted(StrEnum):
    LEASED = "leased"  # queued, and this worker now answers the thread
    QUEUED = "queued"  # queued; the worker holding the lease will answer it
    DONE = "done"  # already answered (a redelivery): acknowledge it
    NOT_OURS = "not_ours"  # a reply in a channel thread Sarah is not part of, or a press on one that is gone
    HELD = "held"  # a reply in a thread not known yet, kept for its opening message: acknowledge it


class Release(StrEnum):
    RELEASED = "released"
    MORE = "more"  # new messages arrived: keep answering
    LOST = "lost"  # the lease expired and may be someone else's now


@dataclass(frozen=True, slots=True)
class Pending:
    """A queued message and the stream entry to acknowledge once it is answered."""

    message: InboundMessage
    entry_id: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a pass reads in its one round trip (`ThreadStore.begin`): the state as it was before the
    pass, the messages waiting, the stored turns, and the reply tag when the pass recorded it."""

    state: ThreadState
    pending: list[Pending]
    turns: list[StoredTurn]
    tag: str = ""  # "": an earlier pass's tag is still recorded in `state.reply_pass` (or nothing waits)
    tagged_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Committed:
    """What `ThreadStore.commit` did with the lease (None: it was asked to keep it), and when messages
    wait, the next pass's read."""

    release: Release | None
    next: Snapshot | None = None
    entry_ids: tuple[str, ...] = ()  # the answered messages' stream entries, as the queue held them


@dataclass(frozen=True, slots=True)
class SendCheck:
    """Read right before a send: who owns the thread, how many messages wait in its queue, and
    those of them that arrived after the ones being answered (oldest first)."""

    owner: Owner
    waiting: int
    arrived: list[Pending]
    ours: bool = True  # the pass's lease is still its own (always True when no token was checked)


@dataclass(frozen=True, slots=True)
class StoredTurn:
    role: str  # "user" | "assistant" | "agent" (a support person) | "marker" (a new episode starts)
    content: str
    ts: str = ""
    user: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {"role": self.role, "content": self.content, "ts": self.ts, "user": self.user},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> StoredTurn:
        data = json.loads(raw)
        # cleaned on read too: a turn stored before the ingress cleaned texts must not poison every pass
        return cls(data["role"], clean(data["content"]), data.get("ts", ""), data.get("user", ""))


def episode_of(turns: list[StoredTurn]) -> list[StoredTurn]:
    """The customer's and Sarah's turns since the last episode marker (a hand-back or a reset)."""
    starts = [i for i, turn in enumerate(turns) if turn.role == "marker"]
    current = turns[starts[-1] + 1 :] if starts else turns
    return [turn for turn in current if turn.role in ("user", "assistant")]


def located(thread: ThreadRef, reply_ts: str) -> ThreadRef:
    """`thread` pointing at where Sarah answers now: in a DM conversation, the thread of the
    customer's latest message (`reply_ts`, recorded by `accept`); elsewhere the thread itself."""
    if not thread.is_dm or not reply_ts or reply_ts == thread.thread_ts:
        return thread
    conversation = thread.conversation_ts or thread.thread_ts
    return ThreadRef(thread.channel, reply_ts, thread.team, "" if reply_ts == conversation else conversation)


def parse_thread_key(key: str) -> ThreadRef:
    channel, _, thread_ts = key.partition(":")
    return ThreadRef(channel, thread_ts)


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
        self._dm = redis.register_script(_DM_CONVERSATION)
        self._hold_ms = int(hold_unknown_thread_seconds * 1000)
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._lease_ms = int(lease_seconds * 1000)
        self._accept = redis.register_script(_ACCEPT)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE_IF_IDLE)
        self._begin = redis.register_script(_BEGIN)
        self._commit = redis.register_script(as_function("begin", self._begin) + _COMMIT)
        self._send_check = redis.register_script(_SEND_CHECK)
        self._add_history = redis.register_script(_ADD_HISTORY)
        self._add_files = redis.register_script(_ADD_FILES)

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
        return ScriptCall(
            self._accept,
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
        return ScriptCall(self._dm, [dm_conversations_key(user)], args)

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
        return ScriptCall(
            self._begin, [keys.state, keys.queue, keys.turns, keys.lease], [tag, f"{now:.3f}", self._ttl, lease]
        )

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


def as_text(value: Any) -> str:
    """Redis replies are bytes unless the client decodes them: one place turns them into text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _ts_order(ts: str) -> tuple[int, int]:
    """Slack's ts in time order; a malformed one (queued before the ingress checked them) sorts
    first instead of failing every pass of its thread."""
    seconds, _, micros = ts.partition(".")
    if not (seconds.isdigit() and (micros.isdigit() or not micros)):
        return (0, 0)
    return (int(seconds), int(micros or 0))


__all__ = [
    "Accepted",
    "Kind",
    "Pending",
    "Release",
    "SendCheck",
    "Snapshot",
    "StoredTurn",
    "ThreadKeys",
    "ThreadState",
    "ThreadStore",
    "as_text",
    "dm_conversations_key",
    "episode_of",
    "located",
    "parse_thread_key",
    "shared_files",
    "thread_keys",
    "user_threads_key",
]
