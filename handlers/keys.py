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

Global (each its own hash tag): the inbox stream and its helpers (`{inbox}`: one slot for the ingress
script), the dead letters, the open hand-offs, the reminders, the App Home, replay guards and the
per-workspace stream budget.

The support team's numbers (`{stats}`, no person and no thread in them):

    sarah:{stats}:day:YYYY-MM-DD  HASH  conversations, hand-offs by reason, ratings, that UTC day
    sarah:{stats}:handoffs        ZSET  one closed hand-off's times (JSON) → when it closed
    sarah:{stats}:digest:<week>   STRING  the weekly digest of that ISO week was posted (SET NX)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from handlers.messages import ThreadRef

INBOX_STREAM = "sarah:{inbox}:stream"
INBOX_SEEN_PREFIX = "sarah:{inbox}:seen:"  # + channel:ts; same hash tag as the stream: one script, one slot
INBOX_LATEST_PREFIX = "sarah:{inbox}:latest:"  # + channel:user → the thread they wrote in last (for /sarah)
INBOX_FAILED_PASSES = "sarah:{inbox}:failed-passes"  # HASH entry id → passes that failed on it
DEAD_LETTERS = "sarah:{inbox}:dead"
OPEN_HANDOFFS = "sarah:{handoffs}:open"
REMINDERS = "sarah:{reminders}:due"
BREACH_CHECKS = "sarah:{reminders}:targets"  # thread key → when to look at its service-level targets again
HOME_VIEWERS = "sarah:{home}:viewers"  # user id → when they last opened the tab
STATS_HANDOFFS = "sarah:{stats}:handoffs"
WEBHOOK_STREAM = "sarah:{webhooks}:stream"  # hand-off events not yet delivered (entry: event, body, customer)
WEBHOOK_DUE = "sarah:{webhooks}:due"  # ZSET entry id → when to (re)try it
WEBHOOK_ATTEMPTS = "sarah:{webhooks}:attempts"  # HASH entry id → tries so far
WEBHOOK_DEAD = "sarah:{webhooks}:dead"  # events given up on after HANDOFF_WEBHOOK_MAX_ATTEMPTS
HOME_WORKSPACE_URL = "sarah:{home}:workspace_url"  # auth.test's url, written by the ingress for the workers


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
        """Every key of the thread (for checks that they share one cluster slot)."""
        return (self.state, self.turns, self.queue, self.answered, self.lease, self.failed, self.held)


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


def stats_day_key(day: str) -> str:
    """The day's counters (`day` is YYYY-MM-DD, UTC)."""
    return "sarah:{stats}:day:" + day


def digest_key(week: str) -> str:
    """Taken (SET NX) by the one worker that posts the weekly digest of ISO week `week` (2026-W49)."""
    return "sarah:{stats}:digest:" + week


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
