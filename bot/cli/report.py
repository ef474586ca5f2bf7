"""`sarah report --since 7d`: the support team's numbers for a period, in the terminal.

Volume, the share Sarah solved without a person, hand-offs by reason, median and 90th-percentile
first response and resolution (business hours) against the targets, and ratings: the same lines the
weekly digest posts. Only counts and times: no customer's words.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from typing import TextIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from config import SettingsError, load_settings
from handlers.service_levels import Targets
from handlers.service_report import report_lines
from handlers.store.open_handoffs import open_count
from handlers.store.service_stats import ServiceStats

_SPAN = re.compile(r"(\d+)([hdw])")
_UNIT = {"h": 3_600, "d": 86_400, "w": 7 * 86_400}


def parse_since(text: str) -> float:
    """`7d`, `24h`, `2w` → seconds; ValueError with what to write instead."""
    match = _SPAN.fullmatch(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--since {text!r} is not a period: write a number and h, d or w, like 7d, 24h or 2w")
    return int(match.group(1)) * _UNIT[match.group(2)]


def main(
    argv: list[str], *, prog: str = "sarah report", stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog=prog,
        description="The support team's numbers for a period: conversations, the share Sarah solved alone, "
        "hand-offs by reason, first response and resolution times against the targets, ratings.",
        epilog=f"example: {prog} --since 7d",
    )
    parser.add_argument("--since", default="7d", help="how far back: 24h, 7d, 4w (default 7d)")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")
    options = parser.parse_args(argv)
    try:
        span = parse_since(options.since)
    except ValueError as error:
        print(f"{prog}: {error}", file=err)
        return 2
    try:
        settings = load_settings(options.env_file)
    except SettingsError as error:
        print(error, file=err)
        return 2
    from bot.cli.redis_url import redis_url_for

    with redis_url_for(settings) as redis_url:
        return asyncio.run(print_report(redis_url, Targets.from_settings(settings.service), span, out, err))


async def print_report(redis_url: str, targets: Targets, span: float, out: TextIO, err: TextIO) -> int:
    redis = Redis.from_url(redis_url)
    try:
        now = time.time()
        period = await ServiceStats(redis, clock=time.time).period(now - span, now)
        open_now = await open_count(redis)
    except RedisError as error:
        print(f"sarah report: Redis did not answer ({type(error).__name__}); check REDIS_URL", file=err)
        return 2
    finally:
        await redis.aclose()
    from sarah_model.knowledge import load_knowledge_base
    from sarah_model.sections import SectionFinder

    title = SectionFinder(load_knowledge_base()).title
    print("\n".join(report_lines(period, targets, open_handoffs=open_now, topic_title=title)), file=out)
    return 0
