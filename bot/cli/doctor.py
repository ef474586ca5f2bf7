"""`sarah doctor`: check each thing Sarah depends on and say plainly what to fix.

Settings were already validated by `load_settings`; here: Redis answers, the Slack token works,
Sarah is in the support channel and that channel can be trusted as the support team (private, not
shared, unless SUPPORT_USERGROUP names the team), the model is reachable and not about to be retired.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TextIO

import aiohttp
from openai import APIConnectionError
from redis.asyncio import Redis
from slack_sdk.errors import SlackApiError

from bot.runtime import build_model, build_slack_client
from bot.slack.support_team import channel_facts
from config import Settings, SlackMode
from sarah_model.deadline import closing_notice
from sarah_model.retirement import check_model_retirement, published_notices

Check = Callable[[], Awaitable[list[str]]]  # returns problems; an empty list means fine


async def run_doctor(
    settings: Settings, redis_url: str | None = None, out: TextIO = sys.stdout, today: date | None = None
) -> int:
    checks: dict[str, Check] = {
        "Redis": lambda: _redis(redis_url or settings.redis.redis_url),
        "Slack": lambda: _slack(settings),
        "Model": lambda: _model(settings, today or datetime.now(UTC).date()),
    }
    failed = 0
    counts = {"problem": 0, "warning": 0}
    out.write(
        f"Mode: {settings.slack.mode.value}; model: {settings.model.sarah_model}"
        f"{' (offline)' if settings.model.offline else ''}\n"
    )
    for name, check in checks.items():
        try:
            problems = await check()
        except Exception as error:  # a check that breaks is itself a finding, never a traceback
            problems = [f"the check could not run: {type(error).__name__}: {error}"]
        serious = [p for p in problems if not p.startswith(("warning:", "info:"))]
        warnings = [p for p in problems if p.startswith("warning:")]
        status = "PROBLEM" if serious else "warning" if warnings else "ok"
        failed += 1 if serious else 0
        counts["problem"] += len(serious)
        counts["warning"] += len(warnings)
        out.write(f"{name}: {status}\n" + "".join(f"  - {p}\n" for p in problems))
    out.write(summary_line(counts["warning"], counts["problem"]) + "\n")
    return 1 if failed else 0


def summary_line(warnings: int, problems: int) -> str:
    """The last line says what was found, in numbers: never "All good." after a warning."""
    if not warnings and not problems:
        return "All good: no warnings, no problems."

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' if count != 1 else ''}" if count else f"no {word}s"

    verdict = "fix the problems above" if problems else "Sarah can run; read the warnings above"
    return f"{n(warnings, 'warning')}, {n(problems, 'problem')}: {verdict}."


async def _redis(url: str | None) -> list[str]:
    if not url:
        return ["warning: no REDIS_URL: Sarah will start an embedded Redis (fine for trying her out)"]
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as error:
        return [f"REDIS_URL does not answer: {type(error).__name__}"]
    finally:
        await client.aclose()
    return []


async def _slack(settings: Settings) -> list[str]:
    if settings.slack.mode is SlackMode.LOCAL:
        return ["warning: no SLACK_BOT_TOKEN: `sarah` opens a chat in the terminal"]
    async with aiohttp.ClientSession() as session:
        client = build_slack_client(settings.slack, session)
        auth = await client.auth_test()
        problems = []
        channel = settings.handoff.support_channel
        if channel:
            try:
                facts = await channel_facts(client, channel)
            except SlackApiError as error:
                code = error.response.get("error", "unknown error")
                return [f"Sarah cannot read SUPPORT_CHANNEL {channel} ({code}): check the id and /invite @Sarah there"]
            usergroup = settings.handoff.support_usergroup
            team = (
                f"the support team is user group SUPPORT_USERGROUP {usergroup}"
                if usergroup
                else "the support team is the channel's members"
            )
            problems.append(f"info: {facts.describe()}; {team}")
            if not facts.sarah_is_member:
                problems.append(f"Sarah is not a member of SUPPORT_CHANNEL {channel}: invite her with /invite @Sarah")
            unsafe = facts.unsafe_for_membership()
            refused = (
                facts.unsafe_for_cards(allow_public=settings.handoff.support_channel_allow_public)
                if usergroup
                else unsafe
            )
            if refused:
                problems.append(refused + " (Sarah refuses to start like this)")
            elif unsafe:
                problems.append(f"warning: {unsafe.split(', so ')[0]}: cards are visible to everyone who can read it")
        if not auth.get("bot_id"):
            problems.append("SLACK_BOT_TOKEN is not a bot token")
        return problems


async def _model(settings: Settings, today: date) -> list[str]:
    if settings.model.offline:
        return []
    # an OpenAI fine-tune (ft:…) can be re-made on OpenAI only until its fine-tuning closes
    closing = closing_notice(today) if settings.model.sarah_model.startswith("ft:") else None
    model = build_model(settings.model)
    client = getattr(model, "client", None)
    try:
        if client is None:
            return [f"warning: {closing}"] if closing else []
        found: list[str] = []
        try:
            notices = await check_model_retirement(client, settings.model.sarah_model, today)
        except APIConnectionError:
            where = settings.model.openai_base_url or "https://api.openai.com/v1"
            found.append(f"the model cannot be reached at {where}: check OPENAI_BASE_URL and that the server runs")
            notices = published_notices(settings.model.sarah_model, today)  # the dates alone still speak
        found += [f"warning: {n}" if "no longer answers" not in n else n for n in notices]
        return found + ([f"warning: {closing}"] if closing else [])
    finally:
        closer = getattr(model, "aclose", None)
        if closer is not None:
            await closer()
