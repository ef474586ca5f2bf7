"""The `sarah` command.

sarah [run]           run Sarah: Slack when SLACK_BOT_TOKEN is set, else a chat in this terminal (if it is one)
sarah chat            the chat in this terminal, also with piped input, whatever Slack settings there are
sarah train …         the model pipeline (validate, split, finetune, evaluate), dispatched by sarah_cli
sarah doctor          check settings, Redis, Slack and the model, and say what to fix
sarah forget --user U…  delete a person's conversations with Sarah from Redis (a data deletion request)
sarah dead-letters …  list, show, replay or drop the messages Sarah could not answer
sarah report --since 7d  the support team's numbers: volume, hand-offs, response times, ratings

`sarah` exits 1 when a loop Sarah cannot work without ends (so compose or Kubernetes restart her),
2 when she cannot start (a setting, Redis or Slack unreachable, a token refused, a port taken: one
sentence says which setting to change), 0 after a requested stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

from bot.cli.redis_url import redis_url_for
from bot.ops.logs import configure_logging
from bot.slack.text import is_user_id
from config import Settings, SettingsError, SlackMode, load_settings

log = logging.getLogger("sarah")

NOTHING_TO_SERVE = (
    "No SLACK_BOT_TOKEN and no terminal: there is nothing for Sarah to serve. Set the Slack settings "
    "(cp .env.example .env, then README step 2-4), or run the local chat on purpose: `{prog} chat` "
    "(it also reads piped input; in Docker: docker compose run --rm -it sarah sarah chat)."
)


HELP_WIDTH = 88
CHAT_LOG = "chat.log"  # in SARAH_DATA_DIR


def invoked_as() -> str:
    """The command as the user typed it: `scripts/sarah` exports SARAH_INVOKED_AS (its own path),
    since the `sarah` it runs from its virtualenv is not on the user's PATH."""
    return os.environ.get("SARAH_INVOKED_AS") or "sarah"


def _command(commands: Any, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, HELP_WIDTH),
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: a value given before the command (`sarah --env-file x chat`) is not reset to the default
    parser.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file read besides the environment")
    return parser


def build_parser(prog: str = "sarah") -> argparse.ArgumentParser:
    """`sarah [command] --help` says what each command does, its options and an example."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=textwrap.fill(
            "Sarah, the ZenNest support assistant. With no command: `run`. Settings come from the "
            "environment and .env (see .env.example); every problem with them is listed at once.",
            HELP_WIDTH,
        ),
        epilog=f"example:\n  {prog} chat\n  {prog} doctor\n\n`{prog} COMMAND --help` says more about each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _command(
        commands,
        "run",
        "serve Slack, or chat in this terminal when no SLACK_BOT_TOKEN is set (the default)",
        "Serve Slack with the configured tokens: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on "
        "SARAH_PORT. SARAH_ROLE chooses ingress, worker or both. With no SLACK_BOT_TOKEN and a terminal, "
        "a chat in it. Exits 2 with one sentence naming the setting to change when Sarah cannot start.",
        f"SARAH_ROLE=worker {prog} run",
    )
    _command(
        commands,
        "chat",
        "talk to Sarah in this terminal (also reads piped input)",
        "A conversation with Sarah in this terminal, through the same pipeline as Slack, whatever Slack "
        "settings there are. Lines can be piped in. In the chat: /reset starts afresh, /human asks for a "
        "person, /quit ends. Logs go to a file in SARAH_DATA_DIR, named at the start.",
        f'echo "How do I pair a ZenLock?" | {prog} chat',
    )
    _command(
        commands,
        "doctor",
        "check settings, Redis, Slack and the model, and say what to fix",
        "Checks that Redis answers, Slack accepts the token and Sarah can read SUPPORT_CHANNEL, and the "
        "model answers and is not about to be retired. Exits 1 when there is a problem.",
        f"{prog} doctor --env-file production.env",
    )
    forget = _command(
        commands,
        "forget",
        "delete one person's conversations with Sarah (a data deletion request)",
        "Deletes from Redis every conversation one Slack user had with Sarah, and prints how many "
        "conversations and keys went.",
        f"{prog} forget --user U0123ABCD",
    )
    forget.add_argument("--user", required=True, help="the Slack user id (U…): profile → ⋮ → Copy member ID")
    commands.add_parser(
        "dead-letters",
        help="list, show, replay or drop the messages Sarah could not answer",
        add_help=False,  # `sarah dead-letters --help` is bot/cli/dead_letters.py's
    )
    commands.add_parser(
        "report",
        help="the support team's numbers for a period: volume, solved by Sarah, response and resolution times",
        add_help=False,  # `sarah report --help` is bot/cli/report.py's
    )
    commands.add_parser(
        "train",
        help="make Sarah's model: validate, split, finetune, evaluate",
        add_help=False,  # `sarah train --help` is training/cli.py's
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    prog = invoked_as()
    if args[:1] == ["train"]:  # `sarah train` is dispatched by sarah_cli, so the bot never imports training/
        print(f"sarah train: run it as `{prog} train …` (python -m sarah_cli train …)", file=sys.stderr)
        return 2
    if args[:1] == ["dead-letters"]:
        from bot.cli.dead_letters import main as dead_letters_main

        return dead_letters_main(args[1:], prog=f"{prog} dead-letters")
    if args[:1] == ["report"]:
        from bot.cli.report import main as report_main

        return report_main(args[1:], prog=f"{prog} report")
    options = build_parser(prog).parse_args(args)
    options.command = options.command or "run"
    if options.command == "forget" and not is_user_id(options.user or ""):
        print(
            f"{prog} forget: --user must be a Slack user id like U0123ABCD (profile → ⋮ → Copy member ID)",
            file=sys.stderr,
        )
        return 2
    local = {"slack": {"slack_bot_token": None, "slack_app_token": None, "slack_signing_secret": None}}
    try:
        settings = load_settings(options.env_file, **(local if options.command == "chat" else {}))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if options.command == "forget":  # prints its one result line; needs no logging set up
        with redis_url_for(settings) as redis_url:
            return asyncio.run(_forget(redis_url, options.user))
    if options.command == "doctor":
        configure_logging(settings.log.log_level, settings.log.log_format)
        from bot.cli.doctor import run_doctor

        return asyncio.run(run_doctor(settings))
    if options.command == "run" and settings.slack.mode is SlackMode.LOCAL and not sys.stdin.isatty():
        print(NOTHING_TO_SERVE.format(prog=prog), file=sys.stderr)
        return 0  # nothing is wrong with the process: a container stops here instead of restarting
    chatting = settings.slack.mode is SlackMode.LOCAL
    # The terminal chat shows only the conversation: its log goes to a file beside its data.
    log_file = configure_logging(
        settings.log.log_level,
        settings.log.log_format,
        file=Path(settings.redis.sarah_data_dir) / CHAT_LOG if chatting else None,
    )
    from bot.startup import StartupError

    try:
        with redis_url_for(settings) as redis_url:
            if chatting:
                from bot.cli.local_chat import run_local_chat

                return asyncio.run(run_local_chat(settings, redis_url, log_file=log_file))
            return asyncio.run(_serve(settings, redis_url))
    except StartupError as error:  # one sentence; the traceback only when asked for
        if settings.log.log_level == "DEBUG":
            traceback.print_exception(error.__cause__ or error, file=sys.stderr)
        print(error, file=sys.stderr)
        return 2


async def _forget(redis_url: str, user: str) -> int:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from handlers.store.forget import Forgetter

    redis = Redis.from_url(redis_url)
    try:
        forgotten = await Forgetter(redis).forget(user)
    except RedisError as error:
        print(f"sarah forget: Redis did not answer ({type(error).__name__}); check REDIS_URL", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    print(f"{user}: deleted {forgotten.threads} conversation(s), {forgotten.keys} stored item(s) in all")
    return 0


async def _serve(settings: Settings, redis_url: str) -> int:
    from bot.runtime import Sarah, SarahFailed

    sarah = Sarah(settings, redis_url)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(sarah.stop()))
    await sarah.start()  # a StartupError stops what was started, then reaches `main`
    try:
        await sarah.wait()
    except SarahFailed as failure:
        print(f"Sarah stopped: {failure}", file=sys.stderr)
        await sarah.stop()
        return 1
    await sarah.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
