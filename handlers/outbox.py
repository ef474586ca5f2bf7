"""What the pipeline can make visible, as an interface: Slack implements it, so does the terminal chat.

Every method is one change a person sees: in the customer's thread, or in the support channel.

Exactly one visible answer across a crash: the pipeline records a tag (`reply_pass` in the thread's
state) BEFORE `thinking` or `send` post anything, and each message of the answer carries that tag
and its part number (Slack message metadata). Each part's id but the last is recorded right after
it is posted (`on_part`; the last is followed at once by the commit, which ends the answer); a pass
that dies in between leaves the tag in Redis, and the next holder of the thread's lease asks
`find_posts(thread, tag)` for the parts Slack has, then edits them in place instead of posting
again. So neither the "typing…" placeholder nor piece 2 of a split answer is
ever left behind or posted twice. The tag records the thread the answer goes to (`reply_at`), so the
search looks there even when a DM conversation has moved on to a newer message since; and a search
Slack refuses (`PostsUnknown`) is never taken for "nothing was posted". A streamed answer carries
its tag only from its last call on (chat.startStream takes no metadata): a stream started by a pass
that died before recording it is found as Sarah's empty, untagged message, then stopped and edited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from handlers.messages import SharedFile, ThreadRef
from handlers.store.values import StoredTurn
from handlers.thread_state import CardRef as CardRef  # re-exported: what an outbox posts to
from handlers.thread_state import Owner


@dataclass(frozen=True, slots=True)
class Card:
    """Everything an escalation card shows; rebuilt from Redis whenever the thread changes hands."""

    thread: ThreadRef
    customer: str
    reason: str
    failures: int
    summary: str
    transcript: tuple[StoredTurn, ...]
    status: Owner
    escalated_at: float
    status_by: str = ""  # the agent who claimed, resolved or handed back
    status_at: float = 0.0
    files: tuple[SharedFile, ...] = ()  # what the customer shared: names and Slack links, never content
    rating: int = 0  # the customer's rating after the resolve, 1–5 (0: none)


PartsRecorder = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EarlierPosts:
    """What `find_posts` found of an answer an earlier try began."""

    parts: dict[int, str]  # part number → message id, of the messages that carry the answer's tag
    # Sarah's empty, untagged message in the thread: a stream whose start was never recorded ("": none)
    unrecorded_stream: str = ""


class PostsUnknown(Exception):
    """`find_posts` could not ask (Slack refused or rate-limited the lookup): whether an earlier try
    posted its answer is unknown, so nothing may be posted until it is known."""


class Outbox(Protocol):
    async def thinking(self, thread: ThreadRef, *, tag: str = "") -> str | None:
        """Show that Sarah is answering; return a handle `send` can replace, if there is one.
        `tag` marks the message as part 0 of that answer (see the module docstring)."""
        ...

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
        """Post Sarah's `text` in the customer's thread (with Helped / Didn't help buttons when
        `feedback`); returns the id of the (first) message. A long text goes out in several
        messages: `parts` are the ids of pieces 2… already posted by an earlier try (edited in
        place, the surplus removed), and `on_part` is awaited with the ids of all pieces so far
        (the first one first) after each new one is posted but the last (the caller commits the
        answer right after it; until then `find_posts` finds it by its tag)."""
        ...

    async def find_posts(self, thread: ThreadRef, tag: str, *, since: float = 0.0) -> EarlierPosts:
        """Sarah's messages in the thread that carry `tag`, posted after `since` (Unix time, 0: any),
        and a stream started since and never tagged. Raises `PostsUnknown` when the messages cannot
        be looked up."""
        ...

    async def withdraw(self, thread: ThreadRef, handle: str) -> None:
        """Remove a placeholder that will not become an answer."""
        ...

    async def post_card(self, card: Card) -> CardRef | None:
        """Announce an escalation to the support team."""
        ...

    async def update_card(self, ref: CardRef, card: Card) -> None: ...

    async def remind(self, ref: CardRef, card: Card) -> None:
        """Announce again a card nobody has claimed."""
        ...

    async def support_note(self, ref: CardRef, text: str) -> None:
        """Sarah's own line to the agents in the card's thread. `text` is plain text: it is shown
        escaped (in italics), so nothing in it can ping anyone or link anywhere."""
        ...

    async def alert_team(self, ref: CardRef, text: str, *, usergroup: str = "") -> None:
        """Sarah's own alert in the card's thread (a missed target): `text` is plain text, shown
        escaped; `usergroup` (a user group id from the settings) is mentioned before it, nothing else."""
        ...

    async def asked_again(self, ref: CardRef, customer: str, latest: str) -> None:
        """On the open card's thread: the customer (a Slack user id) asked for a person again in
        another conversation; `latest` (their words there, Slack-encoded) is quoted, nothing in it live."""
        ...

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        """An agent's line relayed into the customer's thread, with the agent's name on it."""
        ...

    async def customer_said(self, ref: CardRef, customer: str, text: str, *, has_files: bool = False) -> None:
        """A DM customer's message, passed to the card's thread under their name, quoted (nothing
        in it can ping anyone or pose as another speaker)."""
        ...

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        """A support member's line (`agent` is their user id) relayed into the customer's DM with their
        name on it; the agent gets a private copy of exactly what the customer received."""
        ...

    async def tell_agent(self, ref: CardRef, agent: str, text: str) -> None:
        """A note only `agent` sees, in the card's thread (why a line was not relayed). `text` is plain
        text, shown escaped."""
        ...

    async def display_name(self, user: str) -> str: ...


class OffSlackOutbox:
    """The support-channel half of an Outbox that lives off Slack (the terminal chat, the scenario
    episodes): nothing to show agents, nothing to find again after a crash. Such an outbox inherits
    these no-ops and writes only what its customer sees (`thinking`, `send`, `post_card`,
    `to_customer`, `display_name`), so a method added to Outbox is added here once."""

    async def thinking(self, thread: ThreadRef, *, tag: str = "") -> str | None:
        return None

    async def withdraw(self, thread: ThreadRef, handle: str) -> None:
        return None

    async def find_posts(self, thread: ThreadRef, tag: str, *, since: float = 0.0) -> EarlierPosts:
        return EarlierPosts({})  # nothing off Slack is lost in a crash: nothing to find again

    async def update_card(self, ref: CardRef, card: Card) -> None:
        return None

    async def remind(self, ref: CardRef, card: Card) -> None:
        return None

    async def support_note(self, ref: CardRef, text: str) -> None:
        return None

    async def alert_team(self, ref: CardRef, text: str, *, usergroup: str = "") -> None:
        return None

    async def asked_again(self, ref: CardRef, customer: str, latest: str) -> None:
        return None

    async def customer_said(self, ref: CardRef, customer: str, text: str, *, has_files: bool = False) -> None:
        return None

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        return None

    async def tell_agent(self, ref: CardRef, agent: str, text: str) -> None:
        return None


class AnswerStream(Protocol):
    """One answer being streamed into one message (see `Streams`)."""

    ts: str  # the message's id, recorded in the thread's state before anything is appended

    async def append(self, text_so_far: str) -> bool:
        """Show the answer's text so far (only what is new is sent). False: this message cannot be
        streamed any further (Slack refused, a limit was reached); the caller ends it with `finish`."""
        ...

    async def finish(self, text: str, *, feedback: bool, tag: str) -> bool:
        """End the stream as the whole answer `text` (with feedback buttons, tagged as part 0).
        False: the stream was ended but does not show `text`; the caller replaces the message
        (`Outbox.send` with `replace=ts`)."""
        ...

    async def stop(self, closing: str = "") -> None:
        """End the stream where it is, cut short, with a `closing` line (never fails)."""
        ...


class Streams(Protocol):
    """Streamed answers, where the outbox can stream (Slack) and its budget allows it now."""

    async def start_stream(self, thread: ThreadRef, *, recipient_user: str, recipient_team: str) -> AnswerStream | None:
        """Open an empty streamed message in the thread; None: send this answer as one message."""
        ...

    async def end_stream(self, thread: ThreadRef, ts: str) -> None:
        """Stop a stream an earlier pass left open (it crashed), so the message can be replaced."""
        ...

    async def may_stream(self, thread: ThreadRef) -> bool:
        """Whether an answer in `thread` could be streamed now (budget left); spends nothing."""
        ...
