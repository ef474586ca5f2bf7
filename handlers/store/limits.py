"""Per-person limits and replay guards, each enforced by one atomic Redis call.

A person's keys share the hash tag `{user:U…}`, so each script below touches one cluster slot:

    sarah:{user:U}:rate:<minute>  HASH    messages this minute (`n`) and whether they were told (`told`)
    sarah:{user:U}:threads        ZSET    the threads they opened (see handlers/store/thread_store.py)
    sarah:{user:U}:handoff        STRING  the thread of their one open hand-off
    sarah:{user:U}:stored         HASH    thread key → "<bytes> <last write>", and `total`

Stored bytes: each message a person writes counts its UTF-8 size plus STORED_BYTES_PER_MESSAGE (what
Sarah keeps beside it: her answer, the queue entry, the markers), against USER_MAX_THREAD_BYTES in
one conversation and USER_MAX_STORED_BYTES in all of the conversations kept for them (a
conversation stops counting once its retention has run out since their last message in it). A
message past either bound is not queued, and its sender is told what to do; nothing kept before is
touched, and `/sarah human` still reaches the team.

Replays of a slash command or a button press are dropped with SET NX on `sarah:{replay:<id>}`.
Limits exist so that one person (or a script with their token) cannot flood the support channel,
Sarah's model budget or Redis; whoever hits one is told so, once, in plain words.
"""

from __future__ import annotations

import math
from enum import StrEnum

from redis.asyncio import Redis

from handlers.messages import InboundMessage
from handlers.store.keys import handoff_key, rate_key, replay_key, stored_bytes_key, user_threads_key
from handlers.store.scripts import Script, ScriptCall
from handlers.store.values import as_text

# Replays of a signed request are possible for 5 minutes (Slack's signature window); keep the id longer.
REPLAY_TTL_SECONDS = 15 * 60
# A thread counts as open while its customer wrote in it within this window.
OPEN_THREAD_WINDOW_SECONDS = 24 * 3600

TEXT_TOO_FAST = (
    "You're sending messages faster than I can read them, so I haven't answered the last ones. "
    "Please wait a minute, then send me what you still need in one message."
)
TEXT_TOO_MANY_THREADS = (
    "You already have {n} conversations open with me. Please carry on in one of them (reply in its "
    "thread), or try again tomorrow."
)

TEXT_THREAD_FULL = (
    "This conversation has become too long for me to keep any more of it, so I haven't read your last "
    "message. Everything before it is still here: type `/sarah human` and our support team will take it "
    "from here, or start a new conversation with me."
)
TEXT_STORED_FULL = (
    "You've sent me more than I can keep for you, so I haven't read your last message. Everything before "
    "it is still here: type `/sarah human` to reach our support team, or `/sarah forget` to delete what I "
    "keep of your conversations and start afresh."
)
# What Sarah keeps beside each message a person writes (her answer, the queue entry, the markers),
# counted with the message's own size against the stored-bytes bounds.
STORED_BYTES_PER_MESSAGE = 1_024
DEFAULT_MAX_THREAD_BYTES = 256 * 1024  # USER_MAX_THREAD_BYTES
DEFAULT_MAX_STORED_BYTES = 4 * 1024 * 1024  # USER_MAX_STORED_BYTES

TEXT_HANDOFF_JOINED = (
    "Your earlier request is already with our support team, and I've added this to it. A person "
    "will reply in that conversation; you don't need to ask again."
)


class Verdict(StrEnum):
    OK = "ok"
    TOO_FAST = "too_fast"  # over the per-minute limit: tell them (once per minute)
    QUIET = "quiet"  # over the limit and already told this minute
    TOO_MANY_THREADS = "too_many_threads"  # a new conversation beyond USER_MAX_OPEN_THREADS
    THREAD_FULL = "thread_full"  # past USER_MAX_THREAD_BYTES in this conversation (told once a minute)
    STORED_FULL = "stored_full"  # past USER_MAX_STORED_BYTES in all (told once a minute)


class Limits:
    """The per-person checks; built from settings and passed to the ingress, actions and hand-off."""

    def __init__(
        self,
        redis: Redis,
        *,
        messages_per_minute: int,
        max_open_threads: int,
        index_ttl_seconds: int,
        max_thread_bytes: int = DEFAULT_MAX_THREAD_BYTES,
        max_stored_bytes: int = DEFAULT_MAX_STORED_BYTES,
    ) -> None:
        """`index_ttl_seconds` is the conversations' retention: how long a person's index, and what
        they stored, is kept after their last message."""
        self._redis = redis
        self._per_minute = messages_per_minute
        self._max_open = max_open_threads
        self._index_ttl = index_ttl_seconds
        self._max_thread_bytes = max_thread_bytes
        self._max_stored_bytes = max_stored_bytes
        self._check = Script(redis, "limits_check")
        self._reserve = Script(redis, "handoff_reserve")
        self._release = Script(redis, "handoff_release")

    @property
    def max_open_threads(self) -> int:
        return self._max_open

    async def check_message(
        self, user: str, thread_key: str, *, opens_thread: bool, now: float, size: int = 0
    ) -> Verdict:
        """Count one message of `user` in `thread_key`; a thread they open joins their index. `size`
        is what keeping it costs (`stored_size`); 0 for what is not bounded (a command)."""
        call = self.check_call(user, thread_key, opens_thread=opens_thread, now=now, size=size)
        verdict, _ = await call.run()
        return Verdict(as_text(verdict))

    def check_call(self, user: str, thread_key: str, *, opens_thread: bool, now: float, size: int = 0) -> ScriptCall:
        """`check_message` as a call (the ingress runs it as one with the message's other steps).
        Its third argument is whether the message opens a thread ('1' or '0')."""
        return self._check.call(
            [rate_key(user, math.floor(now / 60)), user_threads_key(user), stored_bytes_key(user)],
            [
                self._per_minute,
                thread_key,
                "1" if opens_thread else "0",
                now,
                now - OPEN_THREAD_WINDOW_SECONDS,
                self._max_open,
                self._index_ttl,
                size,
                self._max_thread_bytes,
                self._max_stored_bytes,
            ],
        )

    async def first_time(self, request_id: str) -> bool:
        """True the first time a command's or button's id is seen; False for a replay of it."""
        if not request_id:
            return True  # nothing to recognise it by: let it through rather than drop a real press
        return bool(await self._redis.set(replay_key(request_id), 1, nx=True, ex=REPLAY_TTL_SECONDS))

    async def reserve_handoff(self, user: str, thread_key: str, *, ttl_seconds: int, replace: str = "") -> str | None:
        """Make `thread_key` the user's one open hand-off; returns the thread holding it instead, if any.
        `replace` names a holder known to be stale (its hand-off ended without releasing the slot)."""
        held = await self._reserve(keys=[handoff_key(user)], args=[thread_key, ttl_seconds, replace])
        return as_text(held) if held else None

    async def release_handoff(self, user: str, thread_key: str) -> None:
        await self._release(keys=[handoff_key(user)], args=[thread_key])


def stored_size(message: InboundMessage) -> int:
    """What keeping `message` costs against its sender's stored-bytes bounds."""
    return len(message.text.encode()) + STORED_BYTES_PER_MESSAGE
