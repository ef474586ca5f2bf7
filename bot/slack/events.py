"""Decide which Slack events are messages for Sarah, and turn them into `InboundMessage`s.

Pure functions with no I/O, so every rule (what Sarah answers, what she ignores and why) is tested
directly. Sarah answers: every DM; an @mention in a channel (in a thread under it); and replies in
a channel thread, which the worker answers only if Sarah is already part of that thread.

Everything that goes on to Redis is checked here: ids and timestamps must look like Slack's (a
malformed ts would break the ordering of a thread's queue on every pass), and the text is cleaned
and capped (`handlers.text_clean`), so no message can poison a pass or fill the prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.slack.boundaries import Home
from handlers.messages import InboundMessage, Kind, SharedFile, ThreadRef
from handlers.text_clean import clean, clean_and_cap

DEFAULT_MAX_MESSAGE_CHARS = 8_000
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")

# Subtypes that are still a person writing to Sarah; every other subtype (edits, deletions,
# joins, bot messages, channel topics…) is ignored.
_ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}
MAX_FILES = 10  # files of one message listed for the support team


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


def classify(
    event: dict[str, Any],
    bot_user_id: str | None,
    event_id: str = "",
    *,
    home: Home | None = None,
    shared: bool = False,
    max_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
) -> InboundMessage | Ignored:
    """The message Sarah should answer in `event`, or why she ignores it (texts over `max_chars`
    are cut, with a marker). With `home`, a message from another organisation (Slack Connect;
    `shared` is the envelope's is_ext_shared_channel) is marked external."""
    kind = event.get("type")
    if kind not in ("message", "app_mention"):
        return Ignored(f"event type {kind!r}")
    subtype = event.get("subtype")
    if subtype not in _ANSWERED_SUBTYPES:
        return Ignored(f"subtype {subtype!r}")
    if event.get("bot_id") or event.get("bot_profile"):
        return Ignored("sent by a bot")
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return Ignored("no user")
    if not _ID.fullmatch(user):
        return Ignored("malformed user id")
    if bot_user_id and user == bot_user_id:
        return Ignored("Sarah's own message")
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return Ignored("no channel or ts")
    thread_ts = _str(event.get("thread_ts")) or None
    team = _str(event.get("team"))
    if not _ID.fullmatch(channel) or not _TS.fullmatch(ts) or (thread_ts and not _TS.fullmatch(thread_ts)):
        return Ignored("malformed channel or ts")
    if team and not _ID.fullmatch(team):
        team = ""
    text = _str(event.get("text"))
    mention = f"<@{bot_user_id}>" if bot_user_id else None

    if kind == "app_mention":
        message_kind = Kind.MENTION
    elif event.get("channel_type") == "im":
        message_kind = Kind.DM
    elif event.get("channel_type") in ("channel", "group"):
        if thread_ts is None or thread_ts == ts:
            return Ignored("top-level channel message without a mention")
        if mention and mention in text:
            return Ignored("mentions Sarah: the app_mention event carries it")
        message_kind = Kind.THREAD_REPLY
    else:
        return Ignored(f"channel type {event.get('channel_type')!r}")

    if mention:
        text = _without(mention, text)
    capped = clean_and_cap(text, max_chars)
    return InboundMessage(
        thread=ThreadRef(channel=channel, thread_ts=thread_ts or ts, team=team),
        ts=ts,
        user=user,
        text=capped.text,
        kind=message_kind,
        has_files=bool(event.get("files")),
        files=shared_files(event),
        event_id=clean(event_id)[:64],
        cut_from=capped.cut_from,
        external=home is not None and home.is_external(_str(event.get("user_team")) or team or None, shared=shared),
    )


def shared_files(event: dict[str, Any]) -> tuple[SharedFile, ...]:
    """The name and permalink of each file in a message (Slack sends them with files:read); a file
    without a permalink (hidden by a retention policy, or a tombstone) is listed by name only."""
    found = []
    for item in event.get("files") or ():
        if not isinstance(item, dict):
            continue
        name = clean(_str(item.get("name")) or _str(item.get("title")) or "a file")[:200]
        link = _str(item.get("permalink"))
        if not link.startswith("https://") or len(link) > 500:
            link = ""
        found.append(SharedFile(name, link))
    return tuple(found[:MAX_FILES])


def _without(mention: str, text: str) -> str:
    """`text` with each `mention` and the whitespace around it replaced by one space, stripped.

    Plain string operations, linear in the text: a `\\s*` regex backtracks quadratically on a long
    run of whitespace.
    """
    parts = text.split(mention)
    if len(parts) == 1:
        return text.strip()
    inner = [parts[0].rstrip(), *(part.strip() for part in parts[1:-1]), parts[-1].lstrip()]
    return " ".join(inner).strip()


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
