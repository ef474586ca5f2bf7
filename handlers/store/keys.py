"""Every Redis key Sarah writes, in one place: a newcomer reads the whole schema here.

Per thread (hash tag `{channel:thread_ts}`, so every script on a thread touches one cluster slot):

    sarah:{C:ts}:state     HASH    who owns the thread, failure count, the "typing…" placeholder …
    sarah:{C:ts}:turns     LIST    JSON turns, oldest first, capped at MAX_STORED_TURNS
    sarah:{C:ts}:queue     HASH    message ts → queued message not answered yet
    sarah:{C:ts}:answered  SET     ts of every message already answered (the "reply posted" marker)
    sarah:{C:ts}:lease     STRING  the token of the one worker answering this thread right now
    sarah:{C:ts}:failed    SET     what already counted as a failure (`failure_key` names each)
    sarah:{C:ts}:held      HASH    replies that came before the thread's opening message

Per person (hash tag `{user:U…}`):

    sarah:{user:U}:threads        ZSET    the threads they opened, by their last message in each
    sarah:{user:U}:dm             HASH    their current DM conversation and the messages that joined it
    sarah:{user:U}:rate:<minute>  HASH    messages this minute and whether they were told
    sarah:{user:U}:handoff        STRING  the thread of their one open hand-off
    sarah:{user:U}:stored         HASH    bytes they wrote per thread, and in all (`total`)
    sarah:{inbox}:latest:U        HASH    channel → the thread they last wrote in there (the inbox's slot)

Global (each its own hash tag): the inbox stream and its helpers (`{inbox}`: one slot for the ingress
script), the dead letters, the open hand-offs, the reminders, the App Home, replay guards, the
per-workspace stream budget, the digests of the people who asked to be forgotten, and which alarms
the support team was told of lately (`sarah:{alarms}:told:<name>`, SET NX: once across processes).

`FORGET` says, for every key family above, what `sarah forget` does with it (handlers/store/forget.py):
a family that holds a person's words or ids is deleted or has their entries removed. A new family
needs its rule there; a test fails until it has one.

The support team's numbers (`{stats}`, no person and no thread in them):

    sarah:{stats}:day:YYYY-MM-DD  HASH  conversations, hand-offs by reason, ratings, that UTC day
    sarah:{stats}:handoffs        ZSET  one closed hand-off's times (JSON) → when it closed
    sarah:{stats}:digest:<week>   STRING  the weekly digest of that ISO week was posted (SET NX)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from handlers.messages import ThreadRef

INBOX_STREAM = "sarah:{inbox}:stream"
INBOX_SEEN_PREFIX = "sarah:{inbox}:seen:"  # + channel:ts; same hash tag as the stream: one script, one slot
INBOX_LATEST_PREFIX = "sarah:{inbox}:latest:"  # + user: HASH channel → the thread they wrote in last (for /sarah)
INBOX_FAILED_PASSES = "sarah:{inbox}:failed-passes"  # HASH entry id → passes that failed on it
DEAD_LETTERS = "sarah:{inbox}:dead"
OPEN_HANDOFFS = "sarah:{handoffs}:open"  # ZSET thread key → when it was handed off
UNCLAIMED_HANDOFFS = "sarah:{handoffs}:unclaimed"  # ZSET the open ones nobody has claimed yet, same scores
REMINDERS = "sarah:{reminders}:due"
BREACH_CHECKS = "sarah:{reminders}:targets"  # thread key → when to look at its service-level targets again
HOME_VIEWERS = "sarah:{home}:viewers"  # user id → when they last opened the tab
STATS_HANDOFFS = "sarah:{stats}:handoffs"
WEBHOOK_STREAM = "sarah:{webhooks}:stream"  # hand-off events not yet delivered (entry: event, body, customer)
WEBHOOK_DUE = "sarah:{webhooks}:due"  # ZSET entry id → when to (re)try it
WEBHOOK_ATTEMPTS = "sarah:{webhooks}:attempts"  # HASH entry id → tries so far
WEBHOOK_DEAD = "sarah:{webhooks}:dead"  # events given up on after HANDOFF_WEBHOOK_MAX_ATTEMPTS
HOME_WORKSPACE_URL = "sarah:{home}:workspace_url"  # auth.test's url, written by the ingress for the workers
# SET of sha256 digests of the people who used forget: `sarah train harvest` never learns from them
FORGOTTEN_PEOPLE = "sarah:{forgotten}:people"


@dataclass(frozen=True, slots=True)
class ThreadKeys:
    """The keys of one thread; all share its hash tag."""

    state: str
    turns: str
    queue: str
    answered: str
    lease: str
    failed: str
    held: str

    @classmethod
    def of(cls, thread: ThreadRef) -> ThreadKeys:
        tag = "sarah:{" + thread.key + "}:"
        return cls(*(tag + name for name in ("state", "turns", "queue", "answered", "lease", "failed", "held")))

    def all(self) -> tuple[str, ...]:
        """Every key of the thread (for checks that they share one cluster slot, and for forget)."""
        return tuple(getattr(self, f.name) for f in fields(self))


def thread_keys(thread: ThreadRef) -> ThreadKeys:
    return ThreadKeys.of(thread)


def user_threads_key(user: str) -> str:
    """The index of the threads `user` opened (they are each one's customer), newest activity highest."""
    return "sarah:{user:" + user + "}:threads"


def dm_conversations_key(user: str) -> str:
    """The person's current DM conversation and the messages that joined it."""
    return "sarah:{user:" + user + "}:dm"


def rate_key(user: str, minute: int) -> str:
    return "sarah:{user:" + user + "}:rate:" + str(minute)


def handoff_key(user: str) -> str:
    return "sarah:{user:" + user + "}:handoff"


def stored_bytes_key(user: str) -> str:
    """How many bytes the person wrote per thread (field: thread key) and in all (`total`)."""
    return "sarah:{user:" + user + "}:stored"


def latest_key(user: str) -> str:
    """The thread the person last wrote in, per channel (field: channel id); written by the inbox."""
    return INBOX_LATEST_PREFIX + user


def stats_day_key(day: str) -> str:
    """The day's counters (`day` is YYYY-MM-DD, UTC)."""
    return "sarah:{stats}:day:" + day


def digest_key(week: str) -> str:
    """Taken (SET NX) by the one worker that posts the weekly digest of ISO week `week` (2026-W49)."""
    return "sarah:{stats}:digest:" + week


def alarm_told_key(name: str) -> str:
    """Taken (SET NX, with the alarm's repeat window as its TTL) by the one process that tells the
    support team of alarm `name` (handlers/store/once.py), so N ingress replicas do not alert N times."""
    return "sarah:{alarms}:told:" + name


def replay_key(request_id: str) -> str:
    """Set once per slash command or button press, so Slack's retry of it is dropped."""
    return "sarah:{replay:" + request_id + "}"


def stream_budget_key(workspace: str) -> str:
    return f"sarah:{{stream-budget:{workspace or 'default'}}}"


def failure_key(kind: Literal["message", "answer"], ts: str) -> str:
    """What one failure is remembered as in a thread's `failed` set, so it counts once however often
    it is seen: `message:<ts>` (a message Sarah could not answer) or `answer:<ts>` (an answer whose
    steps did not work)."""
    return f"{kind}:{ts}"


class Forget(StrEnum):
    """What `sarah forget` does with one key family."""

    WITH_THREAD = "with_thread"  # a thread's key: deleted with every thread the person is the customer of
    OWN = "own"  # the person's own key (their id is in its name): deleted
    ENTRIES = "entries"  # shared by everyone: the person's entries (and their threads') are removed
    NOTHING_PERSONAL = "nothing_personal"  # holds no one's words or ids


# Every key family of the schema, by the name that builds it here, and its forget rule.
FORGET: dict[str, Forget] = {
    **{f"ThreadKeys.{f.name}": Forget.WITH_THREAD for f in fields(ThreadKeys)},
    "user_threads_key": Forget.OWN,
    "dm_conversations_key": Forget.OWN,
    "rate_key": Forget.OWN,  # lives two minutes; this minute's and the last are deleted
    "handoff_key": Forget.OWN,
    "stored_bytes_key": Forget.OWN,
    "latest_key": Forget.OWN,
    "INBOX_STREAM": Forget.ENTRIES,  # their messages not answered yet
    "DEAD_LETTERS": Forget.ENTRIES,  # their messages set aside, and those of their threads
    "OPEN_HANDOFFS": Forget.ENTRIES,  # their threads' open hand-offs
    "UNCLAIMED_HANDOFFS": Forget.ENTRIES,  # the same, while nobody has claimed them
    "REMINDERS": Forget.ENTRIES,  # their threads' card reminders
    "HOME_VIEWERS": Forget.ENTRIES,  # when they last opened the App Home
    "INBOX_SEEN_PREFIX": Forget.NOTHING_PERSONAL,  # channel and ts of a message → its stream entry id
    "INBOX_LATEST_PREFIX": Forget.NOTHING_PERSONAL,  # the prefix of `latest_key`
    "INBOX_FAILED_PASSES": Forget.NOTHING_PERSONAL,  # stream entry id → failed passes
    "HOME_WORKSPACE_URL": Forget.NOTHING_PERSONAL,
    "replay_key": Forget.NOTHING_PERSONAL,  # a trigger id, set once per command or press
    "stream_budget_key": Forget.NOTHING_PERSONAL,  # per workspace
    # one-way digests of the ids of people who were forgotten, kept on purpose so that
    # `sarah train harvest` never turns a conversation they took part in into training data
    "FORGOTTEN_PEOPLE": Forget.NOTHING_PERSONAL,
    "BREACH_CHECKS": Forget.ENTRIES,  # their threads' service-level checks
    "WEBHOOK_STREAM": Forget.ENTRIES,  # hand-off events about them not delivered yet
    "WEBHOOK_DUE": Forget.ENTRIES,
    "WEBHOOK_ATTEMPTS": Forget.ENTRIES,
    "WEBHOOK_DEAD": Forget.ENTRIES,  # hand-off events about them given up on
    "STATS_HANDOFFS": Forget.NOTHING_PERSONAL,  # closed hand-offs' times, no person and no thread
    "stats_day_key": Forget.NOTHING_PERSONAL,  # the day's counters
    "digest_key": Forget.NOTHING_PERSONAL,  # the weekly digest was posted
    "alarm_told_key": Forget.NOTHING_PERSONAL,  # an alarm's name: the team was told of it lately
}


def own_keys(user: str, minute: int) -> tuple[str, ...]:
    """Every key of one person (the `Forget.OWN` families), as forget deletes them."""
    return (
        user_threads_key(user),
        dm_conversations_key(user),
        rate_key(user, minute),
        rate_key(user, minute - 1),
        handoff_key(user),
        stored_bytes_key(user),
        latest_key(user),
    )
