"""`sarah dead-letters`: see, replay and drop the messages Sarah could not answer.

    sarah dead-letters list            one line each: id, when, thread, error (no customer text)
    sarah dead-letters show ID         everything, the customer's message included
    sarah dead-letters replay ID       back to the inbox, answered like a new message (--all: every one)
    sarah dead-letters drop ID         forget it

Replay once the fault is gone (the Slack channel exists again, the bug is fixed): each replayed
message becomes a new inbox entry and leaves the dead-letter stream in the same atomic step.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from config import Settings, SettingsError, load_settings
from handlers.store.dead_letters import DeadLetter, DeadLetters
from handlers.store.inbox import InboxFull

_ID = re.compile(r"\d+-\d+")
LIST_LIMIT = 1_000


def main(
    argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None, prog: str = "sarah dead-letters"
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "The messages Sarah could not answer after DEAD_LETTER_AFTER_PASSES tries, set aside so\n"
            "the inbox keeps moving. Replay them once the fault is gone: each becomes a new inbox entry."
        ),
        epilog=(
            "actions:\n"
            "  list            one line each: id, when, thread, error (no customer text)\n"
            "  show ID         everything, the customer's message included\n"
            "  replay ID       back to the inbox, answered like a new message (--all: every one)\n"
            "  drop ID         forget it\n\n"
            f"example:\n  {prog} list\n  {prog} replay 1764455301234-0"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["list", "show", "replay", "drop"])
    parser.add_argument("id", nargs="?", help="a dead letter's id, as `list` prints it")
    parser.add_argument("--all", action="store_true", help="replay: every dead letter")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")
    options = parser.parse_args(argv)
    if options.action == "replay" and options.all:
        if options.id:
            parser.error("give an ID or --all, not both")
    elif options.action != "list" and not options.id:
        parser.error(f"{options.action} needs the ID of a dead letter (`{prog} list` shows them)")
    if options.id and not _ID.fullmatch(options.id):
        parser.error(f"{options.id!r} is not a dead letter id; they look like 1764455301234-0")
    try:
        settings = load_settings(options.env_file)
    except SettingsError as error:
        print(error, file=err)
        return 2
    from bot.cli.redis_url import redis_url_for

    with redis_url_for(settings) as redis_url:
        return asyncio.run(_run(settings, redis_url, options.action, options.id, out, err))


async def _run(settings: Settings, redis_url: str, action: str, dead_id: str | None, out: TextIO, err: TextIO) -> int:
    redis = Redis.from_url(redis_url)
    dead = DeadLetters(
        redis,
        max_length=settings.redis.stream_max_length,
        retention_seconds=settings.retention.dead_letter_retention_days * 86_400,
    )
    try:
        if action == "list":
            return await _list(dead, out)
        if action == "show":
            return _show(await dead.get(str(dead_id)), str(dead_id), out, err)
        if action == "replay":
            return await _replay(dead, [dead_id] if dead_id else await dead.ids(), out, err)
        if await dead.drop(str(dead_id)):
            print(f"Dropped {dead_id}.", file=out)
            return 0
        print(_unknown(str(dead_id)), file=err)
        return 1
    except InboxFull:
        print(
            "The inbox holds STREAM_MAX_LENGTH unanswered messages: not replayed (those still listed stay "
            "here). Replay once the workers have caught up.",
            file=err,
        )
        return 1
    except RedisError as error:
        print(f"Cannot reach Redis (REDIS_URL): {type(error).__name__}. Is it running?", file=err)
        return 2
    finally:
        await redis.aclose()


async def _list(dead: DeadLetters, out: TextIO) -> int:
    letters = await dead.oldest(LIST_LIMIT)
    total = await dead.count()
    if not letters:
        print("No dead letters: every message was answered or is still being worked on.", file=out)
        return 0
    print(f"{total} dead letter{'s' if total != 1 else ''}, oldest first:", file=out)
    for letter in letters:
        print(f"  {letter.dead_id}  {_when(letter.at)}  thread {letter.thread}  {_failure(letter)}", file=out)
    if total > len(letters):
        print(f"  … and {total - len(letters)} more", file=out)
    print("`sarah dead-letters show ID` shows one; `replay ID` (or `replay --all`) answers them again.", file=out)
    return 0


def _show(letter: DeadLetter | None, dead_id: str, out: TextIO, err: TextIO) -> int:
    if letter is None:
        print(_unknown(dead_id), file=err)
        return 1
    message = letter.message
    lines = [
        f"Dead letter {letter.dead_id}",
        f"  set aside:    {_when(letter.at)}",
        f"  thread:       {letter.thread}",
        f"  inbox entry:  {letter.entry_id}",
        f"  failure:      {_failure(letter)}",
        f"  error detail: {letter.detail or '(none)'}",
    ]
    if message is None:
        lines.append("  message:      (unreadable)")
    else:
        lines += [
            f"  from:         {message.user} ({message.kind.value}, ts {message.ts})",
            f"  message:      {message.text}" + (" [with files]" if message.has_files else ""),
        ]
    print("\n".join(lines), file=out)
    return 0


async def _replay(dead: DeadLetters, ids: list[str], out: TextIO, err: TextIO) -> int:
    if not ids:
        print("No dead letters to replay.", file=out)
        return 0
    missing = 0
    for dead_id in ids:
        entry_id = await dead.replay(dead_id)
        if entry_id is None:
            print(_unknown(dead_id), file=err)
            missing += 1
        else:
            print(f"Replayed {dead_id}: back in the inbox as {entry_id}.", file=out)
    return 1 if missing else 0


def _failure(letter: DeadLetter) -> str:
    return f"{letter.error or 'error'} after {letter.passes} failed pass{'es' if letter.passes != 1 else ''}"


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "unknown time"


def _unknown(dead_id: str) -> str:
    return f"No dead letter {dead_id} (`sarah dead-letters list` shows them)."
