"""Sarah side by side with the floor probe: same load, same fakes, same machine, same run.

Why: Sarah's performance targets are ratios to the floor probe in `bench/floor_probe.py`, the
thinnest bot this stack allows (kept unchanged: it is the yardstick, not part of Sarah; the method
and figures are in docs/benchmarks.md). Absolute figures on a shared 2-core machine drift from run to run; a ratio
measured minutes apart under the same load does not drift as much.

For each scenario and each target (Sarah, then the probe) this starts a fresh private `redis-server`
on a free 127.0.0.1 port (so INFO commandstats and memory are the target's alone), the fakes of
Slack and OpenAI (sarah_testing/, real HTTP, in this process), then the target's ingress and worker as
separate processes, and the load generator. Every conversation has its own user id, so the per-person
limits never throttle the generator (and they are raised as well). The probe runs with UVLOOP=0:
Sarah does not install uvloop, so the comparison is like for like.

Scenarios: burst (conversations × turns all at once; each follow-up is sent as soon as the previous
turn is answered), steady (open loop at a rate, half the messages follow-ups in idle threads),
one (one conversation, turn after turn; Redis MONITOR counts client commands apart from those run
inside Lua), memory (many one-turn conversations, then RSS and Redis memory per conversation), and
scale (burst with N workers × M ingress processes; the generator round-robins over the ingresses).

Redis round trips per message, in every scenario and for both targets, are the server's read events
in the measured window less the stream reads and the benchmark's own requests (bench/redis_counts.py
says why a read event is a round trip, pipelines and MULTI/EXEC included). MONITOR's figures in
`one` are a breakdown by command and source (`--keep-monitor PATH` keeps its log), not round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench.bench_slack import BenchSlack
from bench.private_redis import PrivateCluster, PrivateRedis
from bench.redis_counts import MONITOR_READS, Monitor, redis_counters, round_trips, set_up_round_trips
from bench.throughput import (
    QUESTIONS,
    _cpu_seconds,
    _sarah_process,
    bench_settings,
    model_responder,
    percentile,
)
from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.redis_process import free_port
from sarah_testing.slack_payloads import SIGNING_SECRET, dm, envelope, new_ts, signed_headers

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "floor_probe.py"
TAG = re.compile(r"\[bench (m\d{6})\]")
STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")
SCENARIOS = ("burst", "steady", "one", "memory")


# -- what was sent and what was answered ----------------------------------------------------------


@dataclass
class Sent:
    conversation: int
    sent: float = 0.0
    acked: float | None = None
    status: int | None = None
    answers: list[float] = field(default_factory=list)
    answered: asyncio.Future[float] | None = None
    asked: float | None = None  # when the model was first asked to answer it


class Ledger:
    """Every message by tag; an answer is a tag showing up in a Slack message for the first time."""

    def __init__(self) -> None:
        self.messages: dict[str, Sent] = {}
        self.stray = 0
        self._credited: dict[tuple[str, str], set[str]] = {}  # Slack message → tags it already answered

    def add(self, tag: str, conversation: int) -> Sent:
        sent = self.messages[tag] = Sent(conversation, answered=asyncio.get_running_loop().create_future())
        return sent

    def answer(self, where: tuple[str, str], text: str) -> None:
        """A Slack message `where` (channel, ts) now reads `text`; an edit of it is not a second answer."""
        now = time.monotonic()
        credited = self._credited.setdefault(where, set())
        for tag in dict.fromkeys(TAG.findall(text)):
            if tag in credited:
                continue
            credited.add(tag)
            message = self.messages.get(tag)
            if message is None:
                self.stray += 1
                continue
            message.answers.append(now)
            if message.answered is not None and not message.answered.done():
                message.answered.set_result(now)

    def asked(self, tags: list[str]) -> None:
        """The model fake was asked to answer these messages (the first ask counts)."""
        now = time.monotonic()
        for tag in tags:
            message = self.messages.get(tag)
            if message is not None and message.asked is None:
                message.asked = now


# -- the load --------------------------------------------------------------------------------------


@dataclass
class Load:
    scenario: str
    conversations: int = 1000
    turns: int = 3
    rate: float = 50.0
    seconds: float = 12.0
    model_latency: float = 0.5
    workers: int = 1
    ingresses: int = 1
    in_flight: int = 1000  # memory: conversations waiting for an answer at most


@dataclass
class Conversation:
    channel: str
    user: str
    root_ts: str = ""


class Generator:
    """Signed `message.im` events, round-robin over the ingress URLs; every conversation its own user."""

    def __init__(
        self, urls: list[str], ledger: Ledger, session: aiohttp.ClientSession, seed: int = 1, *, warm_up: bool = False
    ) -> None:
        """`warm_up`: the messages of a warm-up, in conversations and under tags of their own (D0W…, m9…)."""
        self.urls, self.ledger, self.session = urls, ledger, session
        self._who, self._tags = ("W", 900_001) if warm_up else ("B", 1)
        self.conversations: list[Conversation] = []
        self.rng = random.Random(seed)
        self._next = 0
        self.errors = 0

    def new_conversation(self) -> int:
        n = len(self.conversations) + 1
        self.conversations.append(Conversation(f"D0{self._who}{n:07d}", f"U0{self._who}{n:07d}"))
        return n - 1

    async def send(self, number: int) -> Sent:
        """Send the next turn of conversation `number`; returns once it is acknowledged."""
        conversation = self.conversations[number]
        tag = f"m{len(self.ledger.messages) + self._tags:06d}"
        ts = new_ts()
        event = dm(
            f"{self.rng.choice(QUESTIONS)} [bench {tag}]",
            user=conversation.user,
            channel=conversation.channel,
            ts=ts,
            thread_ts=conversation.root_ts or None,
        )
        conversation.root_ts = conversation.root_ts or ts
        message = self.ledger.add(tag, number)
        body = json.dumps(envelope(event))
        url = self.urls[self._next % len(self.urls)]
        self._next += 1
        message.sent = time.monotonic()
        try:
            async with self.session.post(url, data=body, headers=signed_headers(body, secret=SIGNING_SECRET)) as r:
                await r.read()
                message.status = r.status
        except aiohttp.ClientError:
            self.errors += 1
        message.acked = time.monotonic()
        return message

    async def turns(self, number: int, turns: int, drain: float) -> None:
        """One customer: send, wait for the answer, send the follow-up (a customer waits for Sarah)."""
        for _ in range(turns):
            message = await self.send(number)
            assert message.answered is not None
            try:
                await asyncio.wait_for(asyncio.shield(message.answered), drain)
            except TimeoutError:
                return  # lost: the conversation stops here


async def drive(load: Load, generator: Generator, drain: float) -> None:
    """Run the scenario's load to the end (every answer in, or `drain` seconds without one)."""
    if load.scenario in ("burst", "scale"):
        numbers = [generator.new_conversation() for _ in range(load.conversations)]
        await asyncio.gather(*(generator.turns(n, load.turns, drain) for n in numbers))
    elif load.scenario == "one":
        await generator.turns(generator.new_conversation(), load.turns, drain)
    elif load.scenario == "memory":
        gate = asyncio.Semaphore(load.in_flight)

        async def one() -> None:
            async with gate:
                await generator.turns(generator.new_conversation(), 1, drain)

        await asyncio.gather(*(one() for _ in range(load.conversations)))
    else:  # steady: open loop; a follow-up only goes to a thread whose last message is answered
        idle: list[int] = []
        tasks: list[asyncio.Task[Any]] = []

        async def one_message(number: int) -> None:
            message = await generator.send(number)
            assert message.answered is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(message.answered), drain)
                idle.append(number)

        start, total = time.monotonic(), int(load.rate * load.seconds)
        for i in range(total):
            pause = start + i / load.rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            if idle and generator.rng.random() < 0.5:
                number = idle.pop(generator.rng.randrange(len(idle)))
            else:
                number = generator.new_conversation()
            tasks.append(asyncio.create_task(one_message(number)))
        await asyncio.gather(*tasks)


# -- the processes under test ----------------------------------------------------------------------


@dataclass
class Proc:
    """One process of a target: its role and pid, and a way to stop it."""

    role: str
    pid: int
    stop: Any


def sarah_groups(redis_url: str, slack_url: str, openai_url: str, role: str, args: argparse.Namespace) -> Any:
    groups = bench_settings(
        slack_url,
        openai_url,
        redis={
            "redis_url": redis_url,
            "redis_max_connections": args.redis_connections,
            **({"redis_cluster": True} if args.cluster else {}),
        },
        worker={"coalesce_seconds": args.coalesce, "worker_concurrency": args.concurrency, "sarah_role": role},
    )
    # each conversation has its own user already; raised too, so a test of few users is not throttled
    groups["limits"] = {"user_messages_per_minute": 10_000, "user_max_open_threads": 10_000}
    return groups


async def start_sarah(
    load: Load, redis_url: str, slack: str, openai: str, args: argparse.Namespace
) -> tuple[list[Proc], list[str]]:
    context = multiprocessing.get_context("spawn")
    roles = ["ingress"] * load.ingresses + ["worker"] * load.workers
    started: list[tuple[Any, Connection]] = []
    for role in roles:
        ours, theirs = context.Pipe()
        groups = sarah_groups(redis_url, slack, openai, role, args)
        process = context.Process(target=_sarah_process, args=(groups, redis_url, "WARNING", theirs), daemon=True)
        process.start()
        started.append((process, ours))
    procs: list[Proc] = []
    urls: list[str] = []
    for role, (process, pipe) in zip(roles, started, strict=True):
        procs.append(Proc(role, process.pid, process))
        if not await asyncio.to_thread(pipe.poll, 90):
            raise RuntimeError(f"Sarah's {role} process did not start within 90 s")
        answer = pipe.recv()
        if isinstance(answer, str):
            raise RuntimeError(f"Sarah's {role} process failed: {answer}")
        if role == "ingress":
            urls.append(f"http://127.0.0.1:{answer}/slack/events")
    return procs, urls


async def start_probe(
    load: Load, redis_url: str, slack: str, openai: str, args: argparse.Namespace
) -> tuple[list[Proc], list[str]]:
    base = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SLACK_API_URL": slack,
        "OPENAI_BASE_URL": openai,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "UVLOOP": "1" if args.probe_uvloop else "0",
        "REDIS_CONNS": str(args.redis_connections),
    }
    procs: list[Proc] = []
    urls: list[str] = []
    # the probe's ingress FLUSHES its db when it starts: every ingress first, then the workers
    for role in ["ingress"] * load.ingresses + ["worker"] * load.workers:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROBE),
            env={**base, "ROLE": role, "PORT": str(port)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.append(Proc(role, process.pid, process))
        assert process.stdout is not None
        try:
            ready = (await asyncio.wait_for(process.stdout.readline(), 90)).decode()
        except TimeoutError:
            ready = ""
        if ready.strip() != "ready":
            raise RuntimeError(f"the probe's {role} process did not start (said {ready!r})")
        if role == "ingress":
            urls.append(f"http://127.0.0.1:{port}/slack/events")
    return procs, urls


async def stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        proc.stop.terminate()
    for proc in procs:
        if isinstance(proc.stop, asyncio.subprocess.Process):
            try:
                await asyncio.wait_for(proc.stop.wait(), 15)
            except TimeoutError:
                proc.stop.kill()
                await proc.stop.wait()
        else:
            await asyncio.to_thread(proc.stop.join, 15)
            if proc.stop.is_alive():
                proc.stop.kill()


def rss_mb(pid: int, field_name: str) -> float:
    """VmHWM (the most RSS the process ever had) or VmRSS (now), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- one run: a target under one load --------------------------------------------------------------


@dataclass
class Figures:
    target: str
    values: dict[str, float]
    notes: list[str]


@contextlib.contextmanager
def _harness_without_gc() -> Iterator[None]:
    """No garbage collection in this process (load generator, fakes, ledger) while a run is measured.

    A full collection here took 100 ms once earlier runs' objects had piled up: every message in
    flight was then timed 100 ms late, as if the target had stalled. Objects from before are frozen
    (never scanned again) and collection is off for the run; the cycles one run makes are few."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def run_target(target: str, load: Load, args: argparse.Namespace) -> Figures:
    ledger, warm_up = Ledger(), Ledger()
    counting = [warm_up]  # the ledger the Slack fake reports to: the warm-up's first, then the measured one

    def shown(where: tuple[str, str], text: str) -> None:
        counting[0].answer(where, text)

    slack = BenchSlack(shown, while_streaming=True)  # an answer counts once a person can read it
    openai = FakeOpenAI(model_responder(load.model_latency, lambda tags: counting[0].asked(tags)))
    await slack.start()
    await openai.start()
    procs: list[Proc] = []
    if args.cluster and target == "probe":
        await slack.close()
        await openai.close()
        note = "not run on a cluster: its plain redis.asyncio client does not follow MOVED, and its keys span slots"
        return Figures(target, {}, [note])
    async with PrivateCluster() if args.cluster else PrivateRedis() as server:
        nodes = [Redis(port=port) for port in server.ports]
        try:
            start = start_sarah if target == "sarah" else start_probe
            procs, urls = await start(load, server.url, slack.api_url, openai.base_url, args)
            await asyncio.sleep(1.0)  # every worker has joined the consumer group and is reading
            if load.scenario == "steady" and args.warmup > 0:
                # connections opened, scripts loaded, first calls made: the first second of a fresh
                # process is cold start, not the steady state this scenario measures
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                    warming = Load("steady", rate=load.rate, seconds=args.warmup, model_latency=load.model_latency)
                    await drive(warming, Generator(urls, warm_up, session, warm_up=True), args.drain)
                    await asyncio.sleep(0.5)
            counting[0] = ledger
            with _harness_without_gc():  # its pauses would be timed as the target's
                cpu_before = {p.pid: _cpu_seconds(p.pid) for p in procs}
                redis_before = await redis_counters(nodes)
                slack_before, model_before = len(slack.calls), len(openai.requests)
                own_before = time.process_time()
                monitor = Monitor(server.port, kept(args.keep_monitor, target)) if load.scenario == "one" else None
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                    generator = Generator(urls, ledger, session)
                    first = time.monotonic()
                    await drive(load, generator, args.drain)
                    await asyncio.sleep(1.0)  # a late duplicate still counts
                own_cpu = time.process_time() - own_before
            counts = monitor.finish() if monitor is not None else None
            if monitor is not None:
                await asyncio.sleep(0.2)  # the server has read MONITOR's connection closing
            redis_after = await redis_counters(nodes)
            own_reads = len(nodes) + (MONITOR_READS if monitor is not None else 0)
            cpu = {p.pid: _cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs}
            rss = {p.pid: (rss_mb(p.pid, "VmHWM"), rss_mb(p.pid, "VmRSS")) for p in procs}
            slack_calls = slack.calls[slack_before:]
            model_calls = len(openai.requests) - model_before
        finally:
            await stop_all(procs)
            for node in nodes:
                await node.aclose()
            await slack.close()
            await openai.close()
    result = figures(
        target,
        load,
        ledger,
        first,
        procs,
        cpu,
        rss,
        redis_before,
        redis_after,
        slack_calls,
        model_calls,
        counts,
        generator.errors,
        own_cpu,
        own_reads,
    )
    if monitor is not None and monitor.keep is not None:
        result.notes.append(f"MONITOR log (every command, by client or Lua) kept in {monitor.keep}")
    return result


def kept(path: str, target: str) -> Path | None:
    """Where --keep-monitor puts a target's MONITOR log: PATH with the target's name before the suffix."""
    if not path:
        return None
    where = Path(path)
    return where.with_name(f"{where.stem}-{target}{where.suffix or '.txt'}")


def figures(
    target: str,
    load: Load,
    ledger: Ledger,
    first: float,
    procs: list[Proc],
    cpu: dict[int, float],
    rss: dict[int, tuple[float, float]],
    before: dict[str, float],
    after: dict[str, float],
    slack_calls: list[tuple[str, dict[str, Any]]],
    model_calls: int,
    monitor: dict[str, int] | None,
    send_errors: int,
    own_cpu: float,
    own_reads: int,
) -> Figures:
    messages = list(ledger.messages.values())
    sent = len(messages)
    answered = [m for m in messages if m.answers]
    replies = len(answered)
    acks = [(m.acked - m.sent) * 1000 for m in messages if m.acked is not None and m.status == 200]
    overhead = [(m.answers[0] - m.sent - load.model_latency) * 1000 for m in answered]
    # where the overhead goes: before the model is asked (ingress, queue, worker) and after it answers
    before_model = [(m.asked - m.sent) * 1000 for m in answered if m.asked is not None]
    after_model = [(m.answers[0] - m.asked - load.model_latency) * 1000 for m in answered if m.asked is not None]
    span = max((max(m.answers[0] for m in answered) - first) if answered else 0.0, 1e-9)
    per = max(replies, 1)
    workers = [p.pid for p in procs if p.role == "worker"]
    ingresses = [p.pid for p in procs if p.role == "ingress"]
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after if not k.startswith("~")}
    noise = (
        "info",
        "config|resetstat",
        "monitor",
        "ping",
        "client",
        "client|setinfo",
        "client|setname",
        "hello",
    )  # connection set-up and ours
    commands = sum(v for k, v in delta.items() if k not in noise)
    reads = delta.get("xreadgroup", 0.0)
    methods: dict[str, int] = {}
    for name, _ in slack_calls:
        methods[name] = methods.get(name, 0) + 1
    values: dict[str, float] = {
        "sent": sent,
        "replies": replies,
        "lost": sent - replies,
        "doubled": sum(1 for m in messages if len(m.answers) > 1),
        "not 200": sum(1 for m in messages if m.status != 200),
        "replies/s": replies / span,
        "worker CPU per reply (ms)": sum(cpu[p] for p in workers) / per * 1000,
        "ingress CPU per reply (ms)": sum(cpu[p] for p in ingresses) / per * 1000,
        "Redis CPU per reply (ms)": (after["~cpu"] - before["~cpu"]) / per * 1000,
        "load generator + fakes CPU per reply (ms)": own_cpu / per * 1000,
        "overhead p50 (ms)": percentile(overhead, 0.5),
        "overhead p99 (ms)": percentile(overhead, 0.99),
        "  p50 before the model is asked (ms)": percentile(before_model, 0.5),
        "  p50 after the model answers (ms)": percentile(after_model, 0.5),
        "ack p50 (ms)": percentile(acks, 0.5),
        "ack p99 (ms)": percentile(acks, 0.99),
        "acks over 3 s": sum(1 for a in acks if a > 3000),
        "RSS max, ingress (MB)": max((rss[p][0] for p in ingresses), default=float("nan")),
        "RSS max, worker (MB)": max((rss[p][0] for p in workers), default=float("nan")),
        "Slack calls per message": len(slack_calls) / max(sent, 1),
        "model calls per message": model_calls / max(sent, 1),
        "Redis round trips per message (server read events, excl. stream reads)": round_trips(before, after, own_reads)
        / max(sent, 1),
        "  of which connection set-up (HELLO, CLIENT…, SELECT, health-check PING)": set_up_round_trips(before, after)
        / max(sent, 1),
        "Redis commands per message, all (incl. inside Lua, excl. stream reads)": (commands - reads) / max(sent, 1),
        "Redis stream reads per message (XREADGROUP)": reads / max(sent, 1),
        "streamed answers": sum(1 for name, _ in slack_calls if name == "chat.startStream"),
    }
    if load.scenario == "memory":
        values["RSS now, ingress (MB)"] = max((rss[p][1] for p in ingresses), default=float("nan"))
        values["RSS now, worker (MB)"] = max((rss[p][1] for p in workers), default=float("nan"))
        values["Redis memory per conversation (bytes)"] = (after["~memory"] - before["~memory"]) / max(replies, 1)
    if monitor is not None:
        values["Redis client commands per message (MONITOR, outside Lua, excl. stream reads)"] = monitor[
            "client"
        ] / max(sent, 1)
        values["Redis commands run inside Lua per message (MONITOR)"] = monitor["lua"] / max(sent, 1)
        values["Redis requests per message (MONITOR: a MULTI/EXEC as one, a pipeline as its commands)"] = monitor[
            "requests"
        ] / max(sent, 1)
        values["MULTI/EXEC blocks per message (MONITOR)"] = monitor["transactions"] / max(sent, 1)
    top = sorted(((v, k) for k, v in delta.items() if k not in noise and v), reverse=True)[:12]
    notes = [
        "Slack methods: " + ", ".join(f"{k} {v / max(sent, 1):.2f}" for k, v in sorted(methods.items())),
        "Redis commands per message: " + ", ".join(f"{k} {v / max(sent, 1):.2f}" for v, k in top),
    ]
    if send_errors or ledger.stray:
        notes.append(f"send errors {send_errors}; answers naming unknown tags {ledger.stray}")
    return Figures(target, values, notes)


# -- the report ------------------------------------------------------------------------------------


def table(load: Load, sarah: Figures, probe: Figures) -> str:
    width = max(len(k) for k in sarah.values) + 2
    lines = [f"{'':{width}}{'Sarah':>12}{'probe':>12}{'ratio':>9}"]
    for key, value in sarah.values.items():
        other = probe.values.get(key, float("nan"))
        ratio = value / other if other not in (0, 0.0) and other == other else float("nan")
        lines.append(f"{key:{width}}{_fmt(value):>12}{_fmt(other):>12}{_ratio(ratio):>9}")
    for figures_ in (sarah, probe):
        for note in figures_.notes:
            lines.append(f"  {figures_.target}: {note}")
    return "\n".join(lines)


def medians(runs: list[tuple[Figures, Figures]]) -> str:
    """Each figure's median over the runs, Sarah's and the probe's, and the median and range of the
    per-run ratios: on a small shared machine one run can be off by a third either way."""
    lines = [f"== median of {len(runs)} runs"]
    keys = list(runs[0][0].values)
    width = max(len(k) for k in keys) + 2
    lines.append(f"{'':{width}}{'Sarah':>12}{'probe':>12}{'ratio':>9}{'ratios from–to':>18}")
    for key in keys:
        ours = [s.values.get(key, float("nan")) for s, _ in runs]
        theirs = [p.values.get(key, float("nan")) for _, p in runs]
        ratios = [a / b for a, b in zip(ours, theirs, strict=True) if b and b == b and a == a]
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else ""
        ratio = statistics.median(ratios) if ratios else float("nan")
        lines.append(
            f"{key:{width}}{_fmt(statistics.median(ours)):>12}{_fmt(statistics.median(theirs)):>12}"
            f"{_ratio(ratio):>9}{spread:>18}"
        )
    return "\n".join(lines)


def _fmt(value: float) -> str:
    if value != value:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.2f}"


def _ratio(value: float) -> str:
    return "" if value != value else f"{value:.2f}×"


def describe(load: Load, args: argparse.Namespace) -> str:
    common = (
        f"model latency {load.model_latency * 1000:.0f} ms; {load.ingresses} ingress + {load.workers} worker "
        f"process(es); COALESCE_SECONDS={args.coalesce:g}; WORKER_CONCURRENCY={args.concurrency}; "
        f"Redis pool {args.redis_connections}; probe UVLOOP={'1' if args.probe_uvloop else '0'}"
        + ("; Redis Cluster of 3 masters (REDIS_CLUSTER=true)" if args.cluster else "; one redis-server")
    )
    what = {
        "burst": f"{load.conversations} conversations × {load.turns} turns at once (follow-up when answered)",
        "scale": f"{load.conversations} conversations × {load.turns} turns at once (follow-up when answered)",
        "steady": f"{load.rate:g} messages/s for {load.seconds:g} s, open loop, half follow-ups in idle threads"
        + (f" (after {args.warmup:g} s of the same, not counted)" if args.warmup > 0 else ""),
        "one": f"one conversation of {load.turns} turns, one at a time (Redis MONITOR on)",
        "memory": f"{load.conversations} one-turn conversations, at most {load.in_flight} waiting at once",
    }[load.scenario]
    return f"== {load.scenario}: {what}; {common}"


def loads(args: argparse.Namespace) -> list[Load]:
    chosen = SCENARIOS if args.scenario == "all" else (args.scenario,)
    out: list[Load] = []
    for name in chosen:
        if name == "burst":
            out.append(Load("burst", conversations=args.conversations, turns=3))
        elif name == "steady":
            out.append(Load("steady", rate=args.rate, seconds=args.seconds))
        elif name == "one":
            out.append(Load("one", conversations=1, turns=args.one_turns))
        elif name == "memory":
            out.append(Load("memory", conversations=args.memory_conversations, turns=1))
        elif name == "scale":
            for ingresses in (1, 2):
                for workers in (1, 2, 4):
                    out.append(
                        Load("scale", conversations=args.scale_conversations, workers=workers, ingresses=ingresses)
                    )
    for load in out:
        load.model_latency = args.model_latency
    return out


async def main_async(args: argparse.Namespace) -> None:
    print(
        f"scripts/bench {args.scenario}: Sarah vs the floor probe, same fakes and load, each on a fresh "
        f"private redis-server; {os.cpu_count()} CPUs; started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        flush=True,
    )
    curve: list[tuple[Load, Figures, Figures]] = []
    for load in loads(args):
        print(describe(load, args), flush=True)
        runs: list[tuple[Figures, Figures]] = []
        for run in range(args.repeat):
            # the second target of a pair meets a warmer machine: alternate who goes first
            order = ("sarah", "probe") if run % 2 == 0 else ("probe", "sarah")
            done = {target: await run_target(target, load, args) for target in order}
            if args.repeat > 1:
                print(f"-- run {run + 1} of {args.repeat} ({order[0]} first)", flush=True)
            print(table(load, done["sarah"], done["probe"]), flush=True)
            runs.append((done["sarah"], done["probe"]))
        if args.repeat > 1:
            print(medians(runs), flush=True)
        curve.append((load, *runs[-1]))
    if args.scenario == "scale":
        print("== scale-out curve (replies/s; worker CPU per reply ms; Redis CPU per reply ms; lost)")
        for load, sarah, probe in curve:
            print(f"  {load.ingresses} ingress × {load.workers} worker: Sarah {_curve(sarah)} | probe {_curve(probe)}")


def _curve(figures_: Figures) -> str:
    v = figures_.values
    if not v:
        return "not run"
    return (
        f"{v['replies/s']:.0f}/s, worker CPU {v['worker CPU per reply (ms)']:.1f} ms, "
        f"Redis CPU {v['Redis CPU per reply (ms)']:.2f} ms per reply, lost {v['lost']:.0f}"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="all", choices=(*SCENARIOS, "all", "scale"))
    parser.add_argument("--conversations", type=int, default=1000, help="burst: conversations at once (1000)")
    parser.add_argument("--rate", type=float, default=50.0, help="steady: messages per second (50)")
    parser.add_argument("--seconds", type=float, default=12.0, help="steady: how long (12)")
    parser.add_argument("--one-turns", type=int, default=30, help="one: turns of the one conversation (30)")
    parser.add_argument("--memory-conversations", type=int, default=10_000, help="memory: conversations (10000)")
    parser.add_argument("--scale-conversations", type=int, default=600, help="scale: conversations × 3 turns (600)")
    parser.add_argument("--model-latency", type=float, default=0.5, help="seconds the model fake takes (0.5)")
    parser.add_argument("--coalesce", type=float, default=0.0, help="Sarah's COALESCE_SECONDS (0, like the probe)")
    parser.add_argument("--concurrency", type=int, default=2000, help="Sarah's WORKER_CONCURRENCY (2000)")
    parser.add_argument("--redis-connections", type=int, default=200, help="pool size, both targets (200)")
    parser.add_argument("--probe-uvloop", action="store_true", help="let the probe use uvloop (Sarah does not)")
    parser.add_argument("--cluster", action="store_true", help="Redis Cluster of 3 masters (Sarah only)")
    parser.add_argument(
        "--keep-monitor",
        default="",
        metavar="PATH",
        help="one: keep each target's MONITOR log (every command, by client or Lua) there, "
        "the target's name added (monitor.txt: monitor-sarah.txt, monitor-probe.txt)",
    )
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for one answer at most (60)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="steady: seconds of the same load sent first and not counted (1; 0: count from the first message)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each scenario, alternating who goes first; medians at the end (1)",
    )
    args = parser.parse_args(argv)
    if args.cluster:
        from config.settings import RedisSettings

        if "redis_cluster" not in RedisSettings.model_fields:
            parser.error("--cluster: this version of Sarah has no REDIS_CLUSTER setting")
        if args.scenario == "one":
            parser.error("--cluster: the one-at-a-time scenario's MONITOR watches one server; pick another")
    if args.keep_monitor:
        if args.scenario not in ("one", "all") or args.cluster:
            parser.error("--keep-monitor: only the scenario `one` runs MONITOR (one or all, not on a cluster)")
        args.keep_monitor = str(Path(args.keep_monitor).resolve())  # main() changes directory
    if min(args.conversations, args.one_turns, args.memory_conversations, args.scale_conversations) < 1:
        parser.error("conversation and turn counts must be at least 1")
    if args.rate <= 0 or args.seconds <= 0 or args.model_latency < 0:
        parser.error("--rate and --seconds must be > 0, --model-latency >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.chdir(ROOT)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
