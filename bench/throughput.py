"""How many Slack messages Sarah answers per second on this machine, and what each one costs.

Method. Everything runs on 127.0.0.1. This process runs the load generator and the fakes of Slack's
Web API and of OpenAI (sarah_testing/, over real HTTP); the model fake answers after `--model-latency`
seconds. Sarah runs in HTTP mode (ingress + worker) in a child process, so the generator never
shares her event loop; `--workers N` adds N worker-only processes (SARAH_ROLE=worker). Redis is a
real server (`--redis-url`, db 14 by default: flushed at the start and the end; the tests own db 15).

The generator sends signed `message.im` events to /slack/events at `--rate` messages/s for
`--seconds`, open loop (a slow acknowledgement never slows the schedule). Each message is either a
new top-level DM (its own channel D0BENCH…, at most `--conversations` of them) or, with probability
`--follow-ups`, a follow-up in a thread whose previous messages are all answered (a customer waits
for the answer; a follow-up to a thread still being answered would be folded into one reply by
design). Every message carries a tag `[bench m000123]`; the model fake answers with the tags of the
customer lines after the last assistant turn, so a final answer in chat.postMessage / chat.update
(never the "typing" placeholder, which has no tag) names the messages it answers.

Streaming (`--stream on`, the default, as in production): answers are streamed where the
per-workspace budget allows (`--stream-per-minute`, STREAM_ANSWERS_PER_MINUTE) and sent as one
message past it; the fake Slack answers 429 past Tier 2 (20 start/stop calls a minute). The model's
answer is long enough to be streamed; an answer counts when its stream stops or its message is
posted or edited, never while it streams. The report says how many answers were streamed.

Figures: messages sent; replies (messages with a final answer); lost (no answer within
`--drain-seconds` after the last send); duplicates (a message answered more than once); the
acknowledgement latency of /slack/events (p50/p95/p99); the end-to-end overhead, i.e. answer time -
send time - model latency (p50/p99); replies/s from the first send to the last answer; and CPU
seconds per reply of Sarah's processes (/proc/<pid>/stat), of Redis (INFO cpu) and of this process.
The exit status is 0 whatever the figures; non-zero only when the run itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench.bench_slack import BenchSlack
from sarah_testing.openai_chat import Delay, FakeOpenAI
from sarah_testing.slack_payloads import SIGNING_SECRET, dm, envelope, new_ts, signed_headers

TAG = re.compile(r"\[bench (m\d{6})\]")
SUPPORT_CHANNEL = "C0BENCHSUPPORT"
QUESTIONS = (
    "How do I pair my ZenNest thermostat with the hub?",
    "Which batteries does the door sensor take?",
    "Can I set a weekly heating schedule from the app?",
    "What does a slow blue blink on the hub mean?",
)


# -- Sarah's processes -----------------------------------------------------------------------------


def _sarah_process(groups: dict[str, dict[str, Any]], redis_url: str, log_level: str, conn: Connection) -> None:
    """Child process: run Sarah until SIGTERM; send her HTTP port (or None, or an error) once started."""
    from config.settings import SETTINGS_GROUPS

    for group in SETTINGS_GROUPS.values():  # only the settings given here count, none of this machine's
        for name in group.model_fields:
            os.environ.pop(name.upper(), None)
    from bot.ops.logs import configure_logging
    from bot.runtime import Sarah
    from config import load_settings

    configure_logging(log_level)

    async def serve() -> None:
        sarah = Sarah(load_settings(None, **groups), redis_url)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await sarah.start()
        except Exception as error:
            conn.send(f"error: {type(error).__name__}: {error}")
            raise
        conn.send(sarah.http_port)
        await stop.wait()
        await sarah.stop()

    asyncio.run(serve())


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _redis_usage(redis: Redis) -> tuple[float, int]:
    """The whole server's CPU seconds and commands processed so far."""
    cpu, stats = await redis.info("cpu"), await redis.info("stats")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]), int(stats["total_commands_processed"])


# -- the fakes -------------------------------------------------------------------------------------


@dataclass
class Message:
    tag: str
    conversation: int
    sent: float
    acked: float | None = None
    status: int | None = None
    answers: list[float] = field(default_factory=list)


@dataclass
class Conversation:
    channel: str
    user: str
    root_ts: str = ""
    waiting: set[str] = field(default_factory=set)  # tags sent and not answered yet


class Ledger:
    """What was sent and what was answered; tells the generator which threads are idle."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.conversations: list[Conversation] = []
        self.idle: list[int] = []
        self.answered = 0
        self.all_answered = asyncio.Event()
        self.stray_answers = 0  # answers naming no tag we sent (should stay 0)

    def answer(self, text: str) -> None:
        now = time.monotonic()
        tags = TAG.findall(text)
        if not tags:
            return
        for tag in dict.fromkeys(tags):
            message = self.messages.get(tag)
            if message is None:
                self.stray_answers += 1
                continue
            message.answers.append(now)
            if len(message.answers) > 1:
                continue
            self.answered += 1
            conversation = self.conversations[message.conversation]
            conversation.waiting.discard(tag)
            if not conversation.waiting:
                self.idle.append(message.conversation)
        if self.answered >= len(self.messages):
            self.all_answered.set()


def model_responder(latency: float, asked: Callable[[list[str]], None] | None = None) -> Any:
    """Answer after `latency` s, naming the tags of the customer lines after the last assistant turn
    (`asked` hears those tags as the request arrives)."""

    def respond(request: dict[str, Any]) -> Delay:
        tags: list[str] = []
        for message in reversed(request["messages"]):
            if message["role"] == "assistant":
                break
            if message["role"] == "user":
                tags[:0] = TAG.findall(str(message.get("content") or ""))
        if asked is not None:
            asked(tags)
        labels = " ".join(f"[bench {tag}]" for tag in tags)
        return Delay(
            latency,
            "Open the ZenNest app, go to Settings → Devices, pick the device and follow the steps shown on "
            "the screen one by one, waiting for each step to finish before you start the next one. If a step "
            "fails, unplug the device for ten seconds, plug it back in and start that step again from the "
            f"beginning; most devices pair on the second try. {labels}",
        )

    return respond


# -- the load --------------------------------------------------------------------------------------


@dataclass
class Options:
    rate: float
    seconds: float
    conversations: int
    follow_ups: float
    model_latency: float
    workers: int
    concurrency: int
    redis_url: str
    redis_max_connections: int
    drain_seconds: float
    log_level: str
    seed: int
    stream: str = "on"
    stream_per_minute: int = 8
    scrape: str = ""


@dataclass
class Outcome:
    ledger: Ledger
    first_send: float
    last_send: float
    skipped: int
    send_errors: int
    sarah_cpu: float
    redis_cpu: float
    redis_commands: int
    own_cpu: float
    slack_calls: int
    model_calls: int
    sarah_processes: int
    streamed: int = 0
    rate_limited: int = 0  # calls the fake Slack answered 429


async def post_event(session: aiohttp.ClientSession, url: str, ledger: Ledger, message: Message, event: Any) -> None:
    body = json.dumps(envelope(event))
    headers = signed_headers(body, secret=SIGNING_SECRET)
    message.sent = time.monotonic()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        message.status = response.status
        message.acked = time.monotonic()


async def generate(url: str, options: Options, ledger: Ledger) -> tuple[float, float, int, int]:
    """Send the load on schedule; returns first and last send times, ticks skipped, failed sends."""
    rng = random.Random(options.seed)
    total = int(options.rate * options.seconds)
    skipped = errors = 0
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2000)) as session:
        start = time.monotonic()
        for i in range(total):
            pause = start + i / options.rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            if time.monotonic() - start > options.seconds + 1:
                break  # the generator fell behind: bounded in time too
            started = len(ledger.conversations)
            follow = started >= options.conversations or rng.random() < options.follow_ups
            if follow and ledger.idle:
                pick = rng.randrange(len(ledger.idle))
                ledger.idle[pick], ledger.idle[-1] = ledger.idle[-1], ledger.idle[pick]
                number = ledger.idle.pop()
            elif started < options.conversations:
                number = started
                ledger.conversations.append(Conversation(f"D0BENCH{number + 1:04d}", f"U0BENCH{number + 1:04d}"))
            else:
                skipped += 1  # every thread is waiting for an answer
                continue
            conversation = ledger.conversations[number]
            tag = f"m{len(ledger.messages) + 1:06d}"
            text = f"{rng.choice(QUESTIONS)} [bench {tag}]"
            ts = new_ts()
            event = dm(
                text,
                user=conversation.user,
                channel=conversation.channel,
                ts=ts,
                thread_ts=conversation.root_ts or None,
            )
            conversation.root_ts = conversation.root_ts or ts
            conversation.waiting.add(tag)
            message = ledger.messages[tag] = Message(tag, number, time.monotonic())
            tasks.append(asyncio.create_task(post_event(session, url, ledger, message, event)))
        last = time.monotonic()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                errors += 1
    return start, last, skipped, errors


async def run(options: Options) -> Outcome:
    redis = Redis.from_url(options.redis_url)
    try:
        await redis.ping()
    except Exception as error:
        await redis.aclose()
        raise SystemExit(f"no Redis answers at {options.redis_url}: {error}") from error
    await redis.flushdb()
    ledger = Ledger()
    slack = BenchSlack(lambda _where, text: ledger.answer(text), while_streaming=False)  # counts once a stream stops
    openai = FakeOpenAI(model_responder(options.model_latency))
    await slack.start()
    await openai.start()
    processes: list[multiprocessing.process.BaseProcess] = []
    try:
        groups = settings_groups(options, slack.api_url, openai.base_url)
        port = await start_sarah(processes, groups, options)
        scraping = asyncio.create_task(scrape_metrics(port, options.scrape)) if options.scrape else None
        pids = [p.pid for p in processes if p.pid is not None]
        sarah_cpu, own_cpu = sum(map(_cpu_seconds, pids)), time.process_time()
        redis_cpu, redis_commands = await _redis_usage(redis)
        slack_calls, model_calls = len(slack.calls), len(openai.requests)
        first, last, skipped, errors = await generate(f"http://127.0.0.1:{port}/slack/events", options, ledger)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ledger.all_answered.wait(), options.drain_seconds)
        await asyncio.sleep(1.0)  # a late duplicate still counts
        if scraping is not None:
            await asyncio.sleep(3.0)  # the gauges settle on the scraped graph
            scraping.cancel()
        redis_cpu_after, redis_commands_after = await _redis_usage(redis)
        return Outcome(
            ledger,
            first,
            last,
            skipped,
            errors,
            sum(map(_cpu_seconds, pids)) - sarah_cpu,
            redis_cpu_after - redis_cpu,
            redis_commands_after - redis_commands,
            time.process_time() - own_cpu,
            len(slack.calls) - slack_calls,
            len(openai.requests) - model_calls,
            len(pids),
            sum(1 for m in slack.messages if m.streamed),
            sum(1 for name, _ in slack.calls if name.endswith(":429")),
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.join, 15)
            if process.is_alive():
                process.kill()
                process.join(5)
        await slack.close()
        await openai.close()
        await redis.flushdb()
        await redis.aclose()


async def scrape_metrics(port: int, path: str, every: float = 1.0) -> None:
    """Append Sarah's /metrics, parsed, to `path` every second (JSON lines) until cancelled."""
    from prometheus_client.parser import text_string_to_metric_families

    async with aiohttp.ClientSession() as session:
        with open(path, "w") as out:  # noqa: ASYNC230 (one short line per second)
            while True:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    text = await response.text()
                samples = [[s.name, s.labels, s.value] for f in text_string_to_metric_families(text) for s in f.samples]
                out.write(json.dumps({"t": time.time(), "samples": samples}) + "\n")
                out.flush()
                await asyncio.sleep(every)


def bench_settings(
    slack_url: str,
    openai_url: str,
    *,
    redis: dict[str, Any],
    worker: dict[str, Any],
    slack: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Sarah's settings groups against the benchmark's fakes (both benchmarks start from these)."""
    return {
        "slack": {
            "slack_bot_token": "xoxb-bench-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack_url,
            "sarah_host": "127.0.0.1",
            "sarah_port": 0,
            **(slack or {}),
        },
        "model": {
            "openai_api_key": "sk-bench-key",
            "openai_base_url": openai_url,
            "sarah_model": "ft:gpt-4.1-mini-2025-04-14:zennest::bench",
            "model_timeout_seconds": 30,
            "model_max_retries": 0,
        },
        "redis": redis,
        "handoff": {"support_channel": SUPPORT_CHANNEL, "handoff_reminder_minutes": 60},
        "worker": worker,
    }


def settings_groups(options: Options, slack_url: str, openai_url: str) -> dict[str, dict[str, Any]]:
    return bench_settings(
        slack_url,
        openai_url,
        redis={"redis_url": options.redis_url, "redis_max_connections": options.redis_max_connections},
        worker={"coalesce_seconds": 0, "worker_concurrency": options.concurrency},
        slack={
            "stream_answers": options.stream == "on",
            "stream_answers_per_minute": options.stream_per_minute,
            "sarah_metrics_on_slack_port": bool(options.scrape),  # --scrape reads /metrics beside /slack/events
        },
    )


async def start_sarah(
    processes: list[multiprocessing.process.BaseProcess], groups: dict[str, dict[str, Any]], options: Options
) -> int:
    """Start Sarah (ingress + worker) and the worker-only processes; returns her HTTP port."""
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    for index in range(1 + options.workers):
        role = "all" if index == 0 else "worker"
        child_groups = {**groups, "worker": {**groups["worker"], "sarah_role": role}}
        ours, theirs = context.Pipe()
        process: multiprocessing.process.BaseProcess = context.Process(
            target=_sarah_process, args=(child_groups, options.redis_url, options.log_level, theirs), daemon=True
        )
        process.start()
        processes.append(process)
        pipes.append(ours)
    answers = []
    for pipe, process in zip(pipes, processes, strict=True):
        if not await asyncio.to_thread(pipe.poll, 60):
            raise RuntimeError(f"Sarah's process {process.pid} did not start within 60 s")
        answers.append(pipe.recv())
    if any(isinstance(answer, str) for answer in answers):
        raise RuntimeError("; ".join(a for a in answers if isinstance(a, str)))
    port = answers[0]
    if not isinstance(port, int):
        raise RuntimeError("Sarah started without an HTTP port")
    return port


# -- the figures -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(options: Options, outcome: Outcome) -> str:
    messages = list(outcome.ledger.messages.values())
    accepted = [m for m in messages if m.status == 200]
    answered = [m for m in messages if m.answers]
    acks = [(m.acked - m.sent) * 1000 for m in accepted if m.acked is not None]
    overhead = [(m.answers[0] - m.sent - options.model_latency) * 1000 for m in answered]
    last_answer = max((m.answers[0] for m in answered), default=outcome.first_send)
    span = max(last_answer - outcome.first_send, 1e-9)
    send_span = max(outcome.last_send - outcome.first_send, 1e-9)
    replies = len(answered)

    def per_reply(cpu: float) -> str:
        return f"{cpu / replies * 1000:.1f} ms" if replies else "n/a"

    statuses: dict[str, int] = {}
    for m in messages:
        statuses[str(m.status)] = statuses.get(str(m.status), 0) + 1
    lines = [
        f"target               {options.rate:g} msg/s for {options.seconds:g} s, "
        f"{options.conversations} conversations, "
        f"follow-ups {options.follow_ups:.0%}, model latency {options.model_latency * 1000:.0f} ms, "
        f"{outcome.sarah_processes} Sarah process(es)",
        f"messages sent        {len(messages)} in {send_span:.1f} s ({len(messages) / send_span:.1f}/s); "
        f"conversations {len(outcome.ledger.conversations)}; ticks skipped (all threads busy) {outcome.skipped}",
        f"acknowledged         {len(accepted)} with 200; statuses {statuses}; send errors {outcome.send_errors}",
        f"replies posted       {replies}",
        f"lost (no reply)      {len(messages) - replies}",
        f"duplicates           {sum(1 for m in messages if len(m.answers) > 1)}"
        + (f"; answers naming unknown tags {outcome.ledger.stray_answers}" if outcome.ledger.stray_answers else ""),
        f"ack latency          p50 {percentile(acks, 0.5):.1f} ms  p95 {percentile(acks, 0.95):.1f} ms  "
        f"p99 {percentile(acks, 0.99):.1f} ms  max {max(acks, default=float('nan')):.1f} ms",
        f"end-to-end overhead  p50 {percentile(overhead, 0.5):.1f} ms  p99 {percentile(overhead, 0.99):.1f} ms  "
        f"max {max(overhead, default=float('nan')):.1f} ms  (answer - send - model latency)",
        f"achieved             {replies / span:.1f} replies/s (first send to last answer, {span:.1f} s)",
        f"CPU per reply        Sarah {per_reply(outcome.sarah_cpu)} ({outcome.sarah_cpu:.1f} s in all), "
        f"Redis {per_reply(outcome.redis_cpu)} ({outcome.redis_cpu:.1f} s), "
        f"generator+fakes {per_reply(outcome.own_cpu)} ({outcome.own_cpu:.1f} s); {os.cpu_count()} CPUs",
        f"streamed answers     {outcome.streamed if options.stream == 'on' else 'off'}"
        + (f" (budget {options.stream_per_minute} a minute)" if options.stream == "on" else "")
        + f"; Slack calls answered 429: {outcome.rate_limited}",
        f"calls per reply      Redis commands {outcome.redis_commands / max(replies, 1):.1f} (whole server), "
        f"Slack API {outcome.slack_calls / max(replies, 1):.1f}, model {outcome.model_calls / max(replies, 1):.2f}",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=150.0, help="messages per second (default 150)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to send (default 20)")
    parser.add_argument("--conversations", type=int, default=1000, help="distinct threads at most (default 1000)")
    parser.add_argument("--follow-ups", type=float, default=0.5, help="share of follow-ups in idle threads (0.5)")
    parser.add_argument("--model-latency", type=float, default=0.5, help="seconds the model fake takes (0.5)")
    parser.add_argument("--workers", type=int, default=0, help="extra worker-only Sarah processes (0)")
    parser.add_argument("--concurrency", type=int, default=2000, help="WORKER_CONCURRENCY (2000)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="flushed at start and end")
    parser.add_argument("--redis-max-connections", type=int, default=200, help="REDIS_MAX_CONNECTIONS (200)")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="wait this long for the last replies")
    parser.add_argument("--log-level", default="WARNING", help="Sarah's LOG_LEVEL (WARNING)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stream", choices=["on", "off"], default="on", help="STREAM_ANSWERS (on)")
    parser.add_argument("--stream-per-minute", type=int, default=8, help="STREAM_ANSWERS_PER_MINUTE (8)")
    parser.add_argument("--scrape", default="", help="write Sarah's /metrics every second to this file (JSON lines)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.conversations < 1 or not 0 <= args.follow_ups <= 1:
        parser.error("--rate and --seconds must be > 0, --conversations >= 1, --follow-ups within 0..1")
    if not args.redis_url.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("--redis-url must be a Redis on 127.0.0.1")
    if args.redis_url.rstrip("/").endswith("/15"):
        parser.error("db 15 belongs to the tests; pick another")
    return Options(**{name.replace("-", "_"): value for name, value in vars(args).items()})


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    outcome = asyncio.run(run(options))
    print(report(options, outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
