"""The commands `sarah train harvest` and `sarah train gaps`: read the bot's Redis, write or print.

Both only read Redis. Harvest writes one JSONL file of candidates (never over an existing file) and
says how many it left out and why; gaps prints the sections by count and can write them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from training.examples import write_jsonl
from training.handoff_records import Reading, read_threads
from training.paths import CANDIDATES_DIR


def _read(redis_url: str) -> Reading:
    async def read() -> Reading:
        client = Redis.from_url(redis_url)
        try:
            return await read_threads(client)
        finally:
            await client.aclose()

    return asyncio.run(read())


def _reading_or_none(redis_url: str) -> Reading | None:
    try:
        return _read(redis_url)
    except (RedisError, ValueError) as error:  # ValueError: a malformed URL
        print(f"Cannot read the hand-offs from Redis: {type(error).__name__}: {error}", file=sys.stderr)
        return None


def run_harvest(args: argparse.Namespace, redis_url: str, *, now: datetime | None = None) -> int:
    from training.harvest import harvest

    names: list[str] = []
    if args.names is not None:
        names = [line.strip() for line in args.names.read_text(encoding="utf-8").splitlines() if line.strip()]
    reading = _reading_or_none(redis_url)
    if reading is None:
        return 2
    result = harvest(reading.threads, names)
    out: Path = args.out or CANDIDATES_DIR / f"harvest-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}.jsonl"
    if out.exists():
        print(
            f"{out} exists already: give another --out (a harvest never overwrites a reviewed file).", file=sys.stderr
        )
        return 2
    print(f"{result.resolved} resolved hand-off(s) read; {len(result.candidates)} candidate(s).")
    if result.without_team_answer:
        print(f"  {result.without_team_answer} left out: the team resolved them without a written answer.")
    if reading.skipped_forgotten:
        print(f"  {reading.skipped_forgotten} conversation(s) left out: someone in them asked to be forgotten.")
    if not result.candidates:
        return 0
    write_jsonl(result.candidates, out)
    print(f"Candidates: {out}")
    print(
        "Review each one (the texts are redacted; fix what the team wrote for one customer only), set "
        f'"approved": true, move it into {CANDIDATES_DIR.parent / "conversations"}, then run `sarah train validate`.'
    )
    return 0


def run_gaps(args: argparse.Namespace, redis_url: str) -> int:
    from sarah_model.knowledge import load_knowledge_base
    from sarah_model.sections import SectionFinder
    from training.gaps import knowledge_gaps

    reading = _reading_or_none(redis_url)
    if reading is None:
        return 2
    gaps = knowledge_gaps(reading.threads, SectionFinder(load_knowledge_base()))
    if not gaps:
        print("No hand-offs and no answers marked as not helping: no gaps to report.")
    else:
        width = max(len(g.title) for g in gaps[: args.top])
        print(f"{'Knowledge-base section':{width}}  hand-offs  didn't help")
        for gap in gaps[: args.top]:
            print(f"{gap.title:{width}}  {gap.handoffs:>9}  {gap.not_helped:>11}")
        if len(gaps) > args.top:
            print(f"… and {len(gaps) - args.top} more section(s) (--top, or --json for all)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {
                "section": g.section,
                "title": g.title,
                "handoffs": g.handoffs,
                "not_helped": g.not_helped,
                "handoff_reasons": dict(g.reasons),
            }
            for g in gaps
        ]
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"JSON: {args.json}")
    return 0
