"""The `sarah` command.

sarah                 run Sarah: Slack when SLACK_BOT_TOKEN is set, else a chat in this terminal (if it is one)
sarah chat            the chat in this terminal, also with piped input, whatever Slack settings there are
sarah train …         the model pipeline (validate, split, finetune, evaluate), dispatched by sarah_cli
sarah doctor          check settings, Redis, Slack and the model, and say what to fix
sarah forget --user U…  delete a person's conversations with Sarah from Redis (a data deletion request)
sarah dead-letters …  list, show, replay or drop the messages Sarah could not answer

`sarah` exits 1 when a loop Sarah cannot work without ends (so compose or Kubernetes restart her),
2 when she cannot start (a setting, Redis or Slack unreachable, a token refused, a port taken: one
sentence says which setting to change), 0 after a requested stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
import traceback

from bot.logs import configure_logging
from bot.redis_url import redis_url_for
from config import Settings, SettingsError, SlackMode, load_settings

log = logging.getLogger("sarah")

NOTHING_TO_SERVE = (
    "No SLACK_BOT_TOKEN and no terminal: there is nothing for Sarah to serve. Set the Slack settings "
    "(cp .env.example .env, then README step 2-4), or run the local chat on purpose: `sarah chat` "
    "(it also reads piped input; in Docker: docker compose run --rm -it sarah sarah chat)."
)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["train"]:  # `sarah train` is dispatched by sarah_cli, so the bot never imports training/
        print("sarah train: run it as `sarah train …` (python -m sarah_cli train …)", file=sys.stderr)
        return 2
    if args[:1] == ["dead-letters"]:
        from bot.dead_letters_cli import main as dead_letters_main

        return dead_letters_main(args[1:])
    parser = argparse.ArgumentParser(prog="sarah", description="Sarah, the ZenNest support assistant.")
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "chat", "doctor", "train", "forget", "dead-letters"]
    )
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")
    parser.add_argument("--user", help="forget: the Slack user id (U…) whose conversations to delete")
    options = parser.parse_args(args)
    if options.command == "forget" and not re.fullmatch(r"[UW][A-Z0-9]{2,}", options.user or ""):
        print(
            "sarah forget: --user must be a Slack user id like U0123ABCD (profile → ⋮ → Copy member ID)",
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
    configure_logging(settings.log.log_level, settings.log.log_format)
    if options.command == "doctor":
        from bot.doctor import run_doctor

        return asyncio.run(run_doctor(settings))
    if options.command == "run" and settings.slack.mode is SlackMode.LOCAL and not sys.stdin.isatty():
        print(NOTHING_TO_SERVE, file=sys.stderr)
        return 0  # nothing is wrong with the process: a container stops here instead of restarting
    from bot.startup import StartupError

    try:
        with redis_url_for(settings) as redis_url:
            if settings.slack.mode is SlackMode.LOCAL:
                from bot.local_chat import run_local_chat

                return asyncio.run(run_local_chat(settings, redis_url))
            return asyncio.run(_serve(settings, redis_url))
    except StartupError as error:  # one sentence; the traceback only when asked for
        if settings.log.log_level == "DEBUG":
            traceback.print_exception(error.__cause__ or error, file=sys.stderr)
        print(error, file=sys.stderr)
        return 2


async def _forget(redis_url: str, user: str) -> int:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from bot.inbox import LATEST_PREFIX
    from handlers.forget import Forgetter

    redis = Redis.from_url(redis_url)
    try:
        forgotten = await Forgetter(redis, latest_prefix=LATEST_PREFIX).forget(user)
    except RedisError as error:
        print(f"sarah forget: Redis did not answer ({type(error).__name__}); check REDIS_URL", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    print(f"{user}: deleted {forgotten.threads} conversation(s), {forgotten.keys} Redis key(s) in all")
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
