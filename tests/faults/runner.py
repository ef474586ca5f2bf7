"""The fault table: Sarah in real processes, a real Redis, faults planted one row at a time.

One module for both uses: `tests/faults/test_faults.py` asserts each row, `scripts/faults` prints the
table (`python -m tests.faults.runner --help`). Each row sends tagged customer messages through the
signed HTTP ingress and counts, from what the fake Slack received: sent, answered, lost, doubled, out
of order per thread, "typing…" placeholders left behind, whether every process is healthy at the end
(alive, and /healthz 200, within 10 s) and how often the harness, playing the
supervisor, restarted one that exited non-zero. Recovery is the time from the end of the fault
(the process back, Redis back) to the last first answer.

Rows that only disturb the fakes or one process share a deployment (one ingress process, one worker
process, one redis-server); rows that restart, empty or cluster Redis get their own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as ClusterClient

from config.settings import SETTINGS_GROUPS
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.keys import thread_keys
from sarah_testing.fault_traffic import (
    SUPPORT_CHANNEL,
    TAG,
    Customers,
    Ledger,
    ModelScript,
    model_error,
    start_fakes,
)
from sarah_testing.openai_chat import Delay, KeepAlive
from sarah_testing.redis_process import RedisCluster, RedisSentinel, RedisServer, free_port
from sarah_testing.sarah_process import SarahProcess, Supervisor
from sarah_testing.slack_payloads import SIGNING_SECRET
from sarah_testing.stalling_proxy import StallingProxy

DEAD_LETTERS = "sarah:{inbox}:dead"  # the worker's dead-letter stream
INBOX = "sarah:{inbox}:stream"  # the inbox stream the ingress writes and the workers read
# Sarah's settings: what her processes must not inherit from the environment the table runs in.
SARAH_SETTINGS = frozenset(name for group in SETTINGS_GROUPS.values() for name in group.model_fields)


@dataclass
class Row:
    scenario: str
    sent: int = 0
    answered: int = 0
    doubled: int = 0
    out_of_order: int = 0
    recovery: float | None = None
    restarts: int = 0
    stuck: int = 0
    healthy: bool = True
    problems: list[str] = field(default_factory=list)  # anything else the row's promise needs

    @property
    def lost(self) -> int:
        return self.sent - self.answered

    def failures(self) -> list[str]:
        found = list(self.problems)
        for name, value in (("lost", self.lost), ("doubled", self.doubled), ("out of order", self.out_of_order)):
            if value:
                found.append(f"{value} {name}")
        if self.stuck:
            found.append(f"{self.stuck} 'typing…' placeholder(s) left")
        if not self.healthy:
            found.append("a process is not healthy at the end")
        if self.sent == 0:
            found.append("nothing was sent")
        return found


@dataclass
class Options:
    outage_seconds: float = 30.0
    wait_seconds: float = 45.0  # how long a row waits for its last answer


class Deployment:
    """Fakes, Redis and Sarah's processes for one or more rows."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        *,
        redis: str = "single",
        ingress: int = 1,
        workers: int = 1,
        env: dict[str, str] | None = None,
        proxied_worker: bool = False,
    ) -> None:
        """`env`: settings of the row over the defaults; `proxied_worker`: the first worker reaches
        Redis through a `StallingProxy` (`self.proxy`), the other processes directly."""
        self.name = name
        self.workdir = workdir / name
        self.redis_kind = redis
        self.ledger = Ledger()
        self.script = ModelScript()
        self.shape = (ingress, workers)
        self.processes: list[SarahProcess] = []
        self.redis_server: RedisServer | None = None
        self.cluster: RedisCluster | None = None
        self.sentinel: RedisSentinel | None = None
        self.extra_env = env or {}
        self.proxied_worker = proxied_worker
        self.proxy: StallingProxy | None = None
        self._channels = 0

    async def start(self) -> None:
        self.slack, self.model, self.gate = await start_fakes(self.ledger, self.script)
        self.session = aiohttp.ClientSession()
        if self.redis_kind == "cluster":
            self.cluster = RedisCluster(self.workdir / "redis")
            await asyncio.to_thread(self.cluster.start)
        elif self.redis_kind == "sentinel":
            self.sentinel = RedisSentinel(self.workdir / "redis")
            await asyncio.to_thread(self.sentinel.start)
        else:
            self.redis_server = RedisServer(self.workdir / "redis")
            await asyncio.to_thread(self.redis_server.start)
        self.redis = self._client()
        if self.proxied_worker:
            assert self.redis_server is not None
            self.proxy = StallingProxy(self.redis_server.port)
            await self.proxy.start()
        ingress, workers = self.shape
        roles = ["all"] if workers == 0 else ["ingress"] * ingress + ["worker"] * workers
        counts: dict[str, int] = {}
        for role in roles:
            counts[role] = counts.get(role, 0) + 1
            env = self._env(role)
            if self.proxy is not None and role == "worker" and counts[role] == 1:
                env["REDIS_URL"] = f"redis://127.0.0.1:{self.proxy.port}/0"
            # Every role serves /healthz on its port (SARAH_PORT and SARAH_HEALTH_PORT: sarah_testing/sarah_process.py).
            self.processes.append(
                SarahProcess(
                    f"{role}{counts[role]}", env, self.workdir / "sarah", port=free_port(), setting_names=SARAH_SETTINGS
                )
            )
        for process in self.processes:
            process.start()
        await asyncio.gather(*(p.ready(self.session) for p in self.processes))
        self.supervisor = Supervisor(self.processes)
        self.supervisor.start()
        self.customers = Customers(self.ledger, self.ingress_urls)

    def _client(self) -> Any:
        if self.cluster is not None:
            return ClusterClient.from_url(self.cluster.url)
        if self.sentinel is not None:
            return Redis.from_url(self.sentinel.master.url)
        assert self.redis_server is not None
        return Redis.from_url(self.redis_server.url)

    def _env(self, role: str) -> dict[str, str]:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-faults",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "SARAH_HOST": "127.0.0.1",
            "OPENAI_API_KEY": "sk-faults",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{self.gate.port}/v1",
            "SARAH_MODEL": "ft:gpt-4.1-mini-2025-04-14:zennest::faults",
            "MODEL_TIMEOUT_SECONDS": "2",
            "MODEL_MAX_RETRIES": "1",
            "SUPPORT_CHANNEL": SUPPORT_CHANNEL,
            "SARAH_ROLE": role,
            "THREAD_LEASE_SECONDS": f"{LEASE_SECONDS:g}",
            "RECLAIM_IDLE_SECONDS": "5",
            "COALESCE_SECONDS": "0.05",
            "HANDOFF_REMINDER_MINUTES": "60",
            "LOG_LEVEL": "INFO",
        }
        if self.cluster is not None:
            env |= {"REDIS_URL": self.cluster.url, "REDIS_CLUSTER": "true"}
        elif self.sentinel is not None:
            env |= {"REDIS_SENTINELS": self.sentinel.sentinels, "REDIS_SENTINEL_MASTER": self.sentinel.master_name}
        else:
            assert self.redis_server is not None
            env["REDIS_URL"] = self.redis_server.url
        return env | self.extra_env

    def ingress_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p.port}/slack/events" for p in self.ingresses()]

    def workers(self) -> list[SarahProcess]:
        return [p for p in self.processes if p.role in ("worker", "all")]

    def ingresses(self) -> list[SarahProcess]:
        return [p for p in self.processes if p.role in ("ingress", "all")]

    def channel(self) -> str:
        self._channels += 1
        return f"D0{self.name[:4].upper()}{self._channels:04d}"

    def load(self, threads: int, per_thread: int, *, text: str = "") -> set[str]:
        """`threads` new DM threads of `per_thread` messages each, 0.15 s apart (so follow-ups arrive
        while the first message is being answered); returns the tags."""
        tags: set[str] = set()
        for _ in range(threads):
            channel = self.channel()
            first = self.ledger.new_tag()
            tags.add(first)
            root = self.customers.write(channel, text=text, tag=first)
            for follow_up in range(1, per_thread):
                tag = self.ledger.new_tag()
                tags.add(tag)
                self._later(channel, root, tag, 0.15 * follow_up)
        return tags

    def _later(self, channel: str, root: str, tag: str, delay: float) -> None:
        async def send() -> None:
            await asyncio.sleep(delay)
            self.customers.write(channel, root=root, tag=tag)

        # The ledger records the message when it is written, in thread order.
        task = asyncio.create_task(send())
        self.customers._tasks.add(task)  # awaited by Customers.sent_all / close
        task.add_done_callback(self.customers._tasks.discard)

    async def healthy(self, within: float = 10.0, *, alarms: frozenset[str] = frozenset()) -> bool:
        """Every process alive and its /healthz 200, now or within `within` s (a worker's
        liveness catches up a few seconds after Redis comes back: its reclaim loop beats on its own
        interval). `alarms`: a 503 for these alarms alone still counts as healthy (an alarm holds
        for a minute after the trouble was last met, by design)."""
        deadline = time.monotonic() + within
        while True:
            if all([await self._healthy(p, alarms) for p in self.processes]):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)

    async def _healthy(self, process: SarahProcess, alarms: frozenset[str]) -> bool:
        if await process.healthy(self.session):
            return True
        if not alarms or process.exit_code() is not None:
            return False
        status, body = await self.health(process)
        if status != 503 or body.get("redis") != "ok" or body.get("loops_ended"):
            return False
        worker = body.get("worker") or {}
        raised = set(body.get("alarms") or {}) | set(worker.get("alarms") or {})
        return not worker.get("stale") and bool(raised) and raised <= alarms

    async def health(self, process: SarahProcess) -> tuple[int, dict[str, Any]]:
        """/healthz's status and body (0 and {} when it does not answer)."""
        try:
            async with self.session.get(
                f"http://127.0.0.1:{process.port}/healthz", timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                return response.status, await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return 0, {}

    async def kill(self, processes: list[SarahProcess]) -> None:
        """kill -9, and wait until they are gone (the supervisor then starts them again)."""
        for process in processes:
            process.signal(signal.SIGKILL)
        for process in processes:
            await process.wait_exit(10)

    async def wait_processes(self, within: float = 60.0) -> None:
        """Until every process is running and ready again (the supervisor restarts crashed ones)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if all(p.exit_code() is None and p.process is not None for p in self.processes):
                break
            await asyncio.sleep(0.1)
        await asyncio.gather(*(p.ready(self.session, within) for p in self.processes))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.customers.close()
        with contextlib.suppress(Exception):
            await self.supervisor.close()
        await asyncio.gather(*(p.stop() for p in self.processes), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.redis.aclose()
        if self.proxy is not None:
            await self.proxy.close()
        for server in (self.redis_server, self.cluster, self.sentinel):
            if server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(server.stop)
        await self.session.close()
        await self.gate.close()
        await self.slack.close()
        await self.model.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log_tail(15)}" for p in self.processes)


async def finish(
    d: Deployment,
    row: Row,
    tags: set[str],
    fault_end: float,
    options: Options,
    *,
    alarms: frozenset[str] = frozenset(),
) -> Row:
    """Wait for the answers, then fill the row from the ledger and the fake Slack. `alarms`: see
    `Deployment.healthy`."""
    await d.customers.sent_all()
    await d.ledger.wait_answered(tags, options.wait_seconds)
    await asyncio.sleep(1.0)  # a late second answer still counts
    row.sent, row.answered, row.doubled, row.out_of_order = d.ledger.counts(tags)
    if row.answered == row.sent:
        last = max(min(m.answers) for m in d.ledger.of(tags))
        row.recovery = max(0.0, last - fault_end)
    threads = {d.ledger.messages[t].thread for t in tags}
    row.stuck = d.slack.stuck_placeholders(threads)
    row.restarts = d.supervisor.total_restarts() - _restarts_before.get(d.name, 0)
    _restarts_before[d.name] = d.supervisor.total_restarts()
    row.healthy = await d.healthy(alarms=alarms)
    return row


_restarts_before: dict[str, int] = {}


# -- the rows --------------------------------------------------------------------------------------


async def baseline(d: Deployment, o: Options) -> Row:
    start = time.monotonic()
    return await finish(d, Row("no fault (baseline)"), d.load(6, 3), start, o)


def model_fails(title: str, failure: Callable[[], Any]) -> Callable[[Deployment, Options], Awaitable[Row]]:
    async def run(d: Deployment, o: Options) -> Row:
        d.script.failure, d.script.fail_attempts = failure, 1
        try:
            return await finish(d, Row(title), d.load(6, 2), time.monotonic(), o)
        finally:
            d.script.failure, d.script.fail_attempts = None, 0

    return run


async def model_refused(d: Deployment, o: Options) -> Row:
    await d.gate.close()
    tags = d.load(4, 1)  # answered with the apology: the model cannot be reached
    await d.ledger.wait_answered(tags, o.wait_seconds)
    await d.gate.open()
    healed = time.monotonic()
    tags |= d.load(4, 1)
    return await finish(d, Row("model connection refused"), tags, healed, o)


async def slack_rate_limited(d: Deployment, o: Options) -> Row:
    d.slack.rate_limit_next(12)
    return await finish(d, Row("Slack 429 (Retry-After)"), d.load(6, 2), time.monotonic(), o)


async def slack_down(d: Deployment, o: Options) -> Row:
    d.slack.fail_next(8, 503)
    return await finish(d, Row("Slack 5xx"), d.load(6, 2), time.monotonic(), o)


async def long_message(d: Deployment, o: Options) -> Row:
    text = ("My ZenHub blinks blue after the update and the app says offline. " * 700)[:39_990]
    return await finish(d, Row("40,000-character message"), d.load(1, 1, text=text), time.monotonic(), o)


async def megabyte_body(d: Deployment, o: Options) -> Row:
    text = ("ZenNest hub log line: wifi reconnect attempt failed. " * 20_000)[:1_000_000]
    return await finish(d, Row("1 MB request body"), d.load(1, 1, text=text), time.monotonic(), o)


async def worker_killed(d: Deployment, o: Options) -> Row:
    d.script.latency = 1.5
    tags = d.load(6, 2)
    await _until(lambda: d.model.in_flight > 0, 20)
    await d.kill(d.workers())
    killed = time.monotonic()
    d.script.latency = 0.2
    await d.wait_processes()
    return await finish(d, Row("worker kill -9 mid-call"), tags, killed, o)


async def ingress_killed(d: Deployment, o: Options) -> Row:
    tags = d.load(6, 3)
    await asyncio.sleep(0.1)
    await d.kill(d.ingresses())
    await asyncio.sleep(0.3)  # the follow-ups meet a dead ingress: Slack retries them
    await d.wait_processes()
    back = time.monotonic()
    await d.customers.sent_all()
    for event, event_id in d.customers.acked[-4:]:  # Slack resends events it saw acknowledged late
        await d.customers.deliver(event, event_id, first_retry=1)
    return await finish(d, Row("ingress kill -9, Slack retries"), tags, back, o)


async def sigterm(d: Deployment, o: Options) -> Row:
    row = Row("SIGTERM mid-call (rolling restart)")
    d.script.latency = 1.0
    tags = d.load(4, 2)
    await _until(lambda: d.model.in_flight > 0, 20)
    stopped = []
    for worker in d.workers():
        worker.stopping = True
        worker.signal(signal.SIGTERM)
        stopped.append(worker)
    for worker in stopped:
        code = await worker.wait_exit(30)
        if code != 0:
            row.problems.append(f"{worker.name} exited with {code} after SIGTERM (expected 0)")
        worker.start()  # the orchestrator starts the new version
    d.script.latency = 0.2
    back = time.monotonic()
    await d.wait_processes()
    return await finish(d, row, tags, back, o)


async def poison(d: Deployment, o: Options) -> Row:
    """A message Slack refuses to take an answer for, every time (Sarah was removed from the channel)."""
    row = Row("poison message (Slack refuses its thread)")
    channel = d.channel()
    d.slack.refused.add(channel)
    d.customers.write(channel)
    tags = d.load(4, 1)
    row = await finish(d, row, tags, time.monotonic(), o)
    deadline = time.monotonic() + o.wait_seconds
    dead = 0
    while time.monotonic() < deadline and not dead:
        with contextlib.suppress(Exception):
            dead = int(await d.redis.xlen(DEAD_LETTERS))
        await asyncio.sleep(0.5)
    if not dead:
        row.problems.append(f"the poison message never reached the dead letters ({DEAD_LETTERS})")
    late = d.load(2, 1)  # the worker still answers after it
    after = await finish(d, Row("after poison"), late, time.monotonic(), o)
    row.problems += [f"after the poison: {p}" for p in after.failures()]
    return row


async def redis_restart(d: Deployment, o: Options) -> Row:
    tags = d.load(6, 3)
    await asyncio.sleep(0.2)
    assert d.redis_server is not None
    await asyncio.to_thread(d.redis_server.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(d.redis_server.start)
    back = time.monotonic()
    tags |= d.load(3, 1)
    return await finish(d, Row("Redis restart under load"), tags, back, o)


def redis_outage(loaded: bool) -> Callable[[Deployment, Options], Awaitable[Row]]:
    async def run(d: Deployment, o: Options) -> Row:
        title = f"Redis {o.outage_seconds:g} s outage, {'under load' if loaded else 'idle'}"
        assert d.redis_server is not None
        d.customers.give_up_after = o.outage_seconds + 30
        tags = d.load(3, 1)
        await d.ledger.wait_answered(tags, o.wait_seconds)
        # Answered and committed before the outage: an answer is posted before it is recorded, and
        # stopping Redis in between would make these rows a crash recovery some runs and not others.
        await _until_async(lambda: _inbox_empty(d), o.wait_seconds)
        await asyncio.to_thread(d.redis_server.stop)
        if loaded:
            tags |= d.load(4, 2)  # answered 500 by the ingress (Redis down): Slack retries them
        await asyncio.sleep(o.outage_seconds)
        await asyncio.to_thread(d.redis_server.start)
        back = time.monotonic()
        tags |= d.load(3, 1)
        return await finish(d, Row(title), tags, back, o)

    return run


async def flushdb(d: Deployment, o: Options) -> Row:
    tags = d.load(4, 1)
    await d.ledger.wait_answered(tags, o.wait_seconds)
    await d.redis.flushdb()
    flushed = time.monotonic()
    tags |= d.load(4, 2)
    return await finish(d, Row("FLUSHDB"), tags, flushed, o)


async def replicas(d: Deployment, o: Options) -> Row:
    d.script.latency = 0.8
    tags = d.load(10, 3)
    await _until(lambda: d.model.in_flight > 0, 20)
    await d.kill(d.workers()[:1])
    killed = time.monotonic()
    d.script.latency = 0.2
    tags |= d.load(4, 2)
    await d.wait_processes()
    return await finish(d, Row("2 ingress + 2 workers, one worker kill -9"), tags, killed, o)


async def cluster(d: Deployment, o: Options) -> Row:
    """Answers, a hand-off (ownership, reminders, the card's relay) and a failed model call, on a cluster."""
    row = Row("Redis Cluster (3 masters)")
    tags = d.load(8, 3)
    await d.ledger.wait_answered(tags, o.wait_seconds)
    tags |= d.load(1, 1, text="I want to talk to a real person")
    d.script.failure, d.script.fail_attempts = model_error(500), 2  # past the SDK's retry: the apology
    tags |= d.load(1, 1)
    row = await finish(d, row, tags, time.monotonic(), o)
    d.script.failure, d.script.fail_attempts = None, 0
    if not [m for m in d.slack.messages if m.channel == SUPPORT_CHANNEL]:
        row.problems.append("no hand-off card reached the support channel")
    return row


async def sentinel(d: Deployment, o: Options) -> Row:
    return await finish(d, Row("Redis Sentinel"), d.load(4, 2), time.monotonic(), o)


async def refused_lookup(d: Deployment, o: Options) -> Row:
    """The worker is killed once Slack has stored its answer and before it hears back (so before the
    commit); the takeover's look for that answer in the thread is refused twice, then answered."""
    row = Row("worker kill -9 after Slack took the answer, its lookup refused twice")
    worker = d.workers()[0]
    killed: list[float] = []

    def kill_once(thread: tuple[str, str], text: str) -> None:
        if killed or not TAG.search(text):
            return
        killed.append(time.monotonic())
        worker.signal(signal.SIGKILL)  # before the fake Slack's answer goes back to the worker
        d.slack.refuse_lookups(LOOKUPS_REFUSED, thread[0])

    d.slack.after_reply = kill_once
    try:
        tags = d.load(3, 2)
        await _until(lambda: bool(killed), 20)
        await worker.wait_exit(10)
        await d.wait_processes()
        # Its answer is in Slack already: the row waits for the takeover's commit, not the answer.
        await _until_async(lambda: _inbox_empty(d), o.wait_seconds)
        committed = time.monotonic()
        row = await finish(d, row, tags, killed[0], o)
        row.recovery = committed - killed[0]  # the customer saw the answer at once: this is the commit
    finally:
        d.slack.after_reply = None
    if d.slack.lookups_refused < LOOKUPS_REFUSED:
        row.problems.append(f"only {d.slack.lookups_refused} of {LOOKUPS_REFUSED} lookups were refused")
    return row


async def link_stall(d: Deployment, o: Options) -> Row:
    """One worker's TCP link to Redis goes silent mid-answer for longer than the thread lease (and
    RECLAIM_IDLE_SECONDS, so the other worker takes its messages over), then comes back with
    everything it held back: a stale send check, commit or renewal must change nothing."""
    row = Row("one worker's Redis link stalls past the lease")
    assert d.proxy is not None
    cut_off = d.workers()[0]
    d.script.latency = 1.0
    tags = d.load(6, 2)
    await _until_async(lambda: _answering(d, cut_off), 20)
    d.proxy.stall()
    stalled = time.monotonic()
    tags |= d.load(3, 1)
    # The other worker takes the cut-off one's messages over (XAUTOCLAIM, once they are
    # RECLAIM_IDLE_SECONDS old) and answers everything, while the stalled link still holds the first
    # worker's send check or commit; only then does the link come back.
    await _until_async(lambda: _holds_nothing(d, cut_off), STALL_WITHIN)
    await d.ledger.wait_answered(tags, STALL_WITHIN - (time.monotonic() - stalled))
    if time.monotonic() - stalled < LEASE_SECONDS:
        row.problems.append("the link came back before the lease ran out: nothing was tested")
    d.script.latency = 0.2
    d.proxy.heal()
    healed = time.monotonic()
    row = await finish(d, row, tags, healed, o)
    await _until_async(lambda: _inbox_empty(d), o.wait_seconds)
    row.problems += await _stored_twice(d, tags)
    return row


async def full_inbox(d: Deployment, o: Options) -> Row:
    """The workers are down and the inbox reaches STREAM_MAX_LENGTH: the ingress refuses new messages
    with a 500 (Slack retries them) and tells each sender once; then the workers come back."""
    row = Row(f"inbox full (STREAM_MAX_LENGTH {INBOX_CAP:,}), workers down")
    for worker in d.workers():
        await worker.stop()
    await _fill_inbox(d, INBOX_CAP - INBOX_ROOM)
    tags = d.load(INBOX_ROOM + INBOX_REFUSED, 1)

    def told() -> int:
        return len(d.slack.calls_to("chat.postEphemeral"))

    await _until_async(lambda: _inbox_holds(d, INBOX_CAP), 20)
    await _until(lambda: told() >= INBOX_REFUSED and d.customers.retries >= 2 * INBOX_REFUSED, 20)
    status, body = await d.health(d.ingresses()[0])
    if status != 503 or "inbox_full" not in (body.get("alarms") or body.get("worker", {}).get("alarms") or {}):
        row.problems.append(f"the ingress's /healthz answered {status} while the inbox was full, not 503 inbox_full")
    for worker in d.workers():
        worker.start()
    # (not `wait_processes`: the ingress's /healthz answers 503 for the alarm, as it should)
    await asyncio.gather(*(worker.ready(d.session) for worker in d.workers()))
    back = time.monotonic()
    # The alarm holds for a minute after the last refusal (bot/ops/alarms.py): a 503 for it alone is expected.
    row = await finish(d, row, tags, back, o, alarms=frozenset({"inbox_full"}))
    if told() != INBOX_REFUSED:
        row.problems.append(f"{told()} senders told the inbox was full, not {INBOX_REFUSED} (once each)")
    alerts = [m for m in d.slack.messages if m.channel == SUPPORT_CHANNEL and "STREAM_MAX_LENGTH" in m.body]
    if len(alerts) != 1:
        row.problems.append(f"the team was alerted {len(alerts)} times, not once")
    return row


async def _fill_inbox(d: Deployment, entries: int) -> None:
    """`entries` presses of a feedback button on answers in threads long forgotten: work the
    workers acknowledge without a word, so only the row's own messages get answers."""
    async with d.redis.pipeline(transaction=False) as pipe:
        for n in range(entries):
            ts = f"1700000000.{n:06d}"
            press = InboundMessage(ThreadRef("D0FORGOTTEN", ts), ts, "UFORGOTTEN", "", Kind.FEEDBACK, ref=ts)
            pipe.xadd(INBOX, {"m": press.to_json()})
        await pipe.execute()


async def _inbox_holds(d: Deployment, entries: int) -> bool:
    return int(await d.redis.xlen(INBOX)) >= entries


async def _inbox_empty(d: Deployment) -> bool:
    """Every entry answered and acknowledged (acknowledged entries are deleted)."""
    return int(await d.redis.xlen(INBOX)) == 0


async def _answering(d: Deployment, worker: SarahProcess) -> bool:
    """`worker` holds messages it has read and not answered, and a model call is in flight."""
    if d.model.in_flight == 0:
        return False
    consumers = await d.redis.xinfo_consumers(INBOX, "sarah-workers")
    mine = f"-{worker.pid}-"
    return any(mine in _text(c["name"]) and int(c["pending"]) > 0 for c in consumers)


async def _holds_nothing(d: Deployment, worker: SarahProcess) -> bool:
    """No entry is pending for `worker` any more (another worker claimed them)."""
    consumers = await d.redis.xinfo_consumers(INBOX, "sarah-workers")
    mine = f"-{worker.pid}-"
    return all(int(c["pending"]) == 0 for c in consumers if mine in _text(c["name"]))


async def _stored_twice(d: Deployment, tags: set[str]) -> list[str]:
    """Turns stored twice in the threads of `tags`: a customer line, or an answer to one message."""
    problems: list[str] = []
    for channel, root in {d.ledger.messages[t].thread for t in tags}:
        raw = await d.redis.lrange(thread_keys(ThreadRef(channel, root)).turns, 0, -1)
        turns = [json.loads(turn) for turn in raw]
        if not turns:
            problems.append(f"no turns stored for thread {channel}:{root}")
        for role in ("user", "assistant"):
            named = [tag for turn in turns if turn["role"] == role for tag in set(TAG.findall(turn["content"]))]
            twice = sorted({tag for tag in named if named.count(tag) > 1})
            if twice:
                problems.append(f"{role} turns stored twice in {channel}:{root}: {', '.join(twice)}")
    return problems


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _until_async(predicate: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.05)


async def _until(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.02)


LOOKUPS_REFUSED = 2  # below DEAD_LETTER_AFTER_PASSES (5): the message is looked for again, not dead-lettered
LEASE_SECONDS = 2.0  # THREAD_LEASE_SECONDS in every row
STALL_WITHIN = 30.0  # the longest the link stays stalled (a takeover takes 5 to 8 s)
INBOX_CAP = 1_000  # the smallest STREAM_MAX_LENGTH allowed
INBOX_ROOM = 4  # the inbox is filled to this far below the cap before the row's messages come
INBOX_REFUSED = 6  # the row's messages that find the inbox full


@dataclass(frozen=True)
class Scenario:
    name: str  # the pytest id and --only name
    run: Callable[[Deployment, Options], Awaitable[Row]]
    deployment: str  # "shared", or a fresh deployment's shape: "single", "replicas", "cluster", "sentinel"


SCENARIOS = (
    Scenario("baseline", baseline, "shared"),
    Scenario("model_429", model_fails("model 429", model_error(429)), "shared"),
    Scenario("model_500", model_fails("model 500", model_error(500)), "shared"),
    Scenario("model_timeout", model_fails("model timeout", lambda: Delay(3.0, "too late")), "shared"),
    Scenario("model_refused", model_refused, "shared"),
    Scenario("model_keepalive", model_fails("model keep-alive bytes, no answer", lambda: KeepAlive()), "shared"),
    Scenario("slack_429", slack_rate_limited, "shared"),
    Scenario("slack_5xx", slack_down, "shared"),
    Scenario("worker_kill", worker_killed, "shared"),
    Scenario("refused_lookup", refused_lookup, "shared"),
    Scenario("ingress_kill", ingress_killed, "shared"),
    Scenario("sigterm", sigterm, "shared"),
    Scenario("long_message", long_message, "shared"),
    Scenario("megabyte_body", megabyte_body, "shared"),
    Scenario("poison", poison, "shared"),
    Scenario("redis_restart", redis_restart, "single"),
    Scenario("redis_outage_idle", redis_outage(False), "single"),
    Scenario("redis_outage_load", redis_outage(True), "single"),
    Scenario("flushdb", flushdb, "single"),
    Scenario("replicas", replicas, "replicas"),
    Scenario("link_stall", link_stall, "stall"),
    Scenario("full_inbox", full_inbox, "full_inbox"),
    Scenario("cluster", cluster, "cluster"),
    Scenario("sentinel", sentinel, "sentinel"),
)
NAMES = tuple(s.name for s in SCENARIOS)


def _fresh(kind: str, name: str, workdir: Path) -> Deployment:
    if kind == "replicas":
        return Deployment(name, workdir, ingress=2, workers=2)
    if kind == "stall":
        return Deployment(name, workdir, ingress=1, workers=2, proxied_worker=True)
    if kind == "full_inbox":
        return Deployment(name, workdir, ingress=1, workers=1, env={"STREAM_MAX_LENGTH": str(INBOX_CAP)})
    if kind == "cluster":
        return Deployment(name, workdir, redis="cluster")
    if kind == "sentinel":
        return Deployment(name, workdir, redis="sentinel", workers=0)
    return Deployment(name, workdir, workers=0)


async def run_table(
    names: tuple[str, ...] = NAMES, options: Options | None = None, *, report: Callable[[Row], None] | None = None
) -> dict[str, Row]:
    """Run the chosen rows in table order; a row whose harness fails gets that failure as a problem."""
    options = options or Options()
    _restarts_before.clear()  # deployments are new: their names may repeat from an earlier table
    workdir = Path(tempfile.mkdtemp(prefix="sarah-faults-"))
    rows: dict[str, Row] = {}
    shared: Deployment | None = None
    try:
        for scenario in SCENARIOS:
            if scenario.name not in names:
                continue
            fresh = scenario.deployment != "shared"
            deployment: Deployment | None = None
            try:
                if fresh:
                    deployment = _fresh(scenario.deployment, scenario.name, workdir)
                    await deployment.start()
                else:
                    if shared is None:
                        shared = Deployment("shared", workdir)
                        await shared.start()
                    deployment = shared
                row = await asyncio.wait_for(scenario.run(deployment, options), options.wait_seconds * 4)
            except Exception as error:  # the row failed in a way the counts cannot say
                row = Row(scenario.name, problems=[f"{type(error).__name__}: {error}"])
                if deployment is not None and deployment.processes:
                    row.problems.append("logs:\n" + deployment.logs())
            finally:
                if fresh and deployment is not None:
                    await deployment.close()
            rows[scenario.name] = row
            if report:
                report(row)
    finally:
        if shared is not None:
            await shared.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def table(rows: list[Row]) -> str:
    head = (
        "| Scenario | Sent | Answered | Lost | Doubled | Out of order | Stuck typing | Restarts | Recovery | Result |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        recovery = f"{r.recovery:.1f} s" if r.recovery is not None else "—"
        result = "ok" if not r.failures() else "FAIL: " + "; ".join((f.splitlines() or [""])[0] for f in r.failures())
        lines.append(
            f"| {r.scenario} | {r.sent} | {r.answered} | {r.lost} | {r.doubled} | {r.out_of_order} | {r.stuck} "
            f"| {r.restarts} | {recovery} | {result} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/faults", description="Sarah's fault table (real processes).")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds Redis stays down (default 30)")
    parser.add_argument("--only", default="", help=f"comma-separated rows: {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    names = tuple(n.strip() for n in args.only.split(",") if n.strip()) or NAMES
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    started = time.monotonic()

    def progress(row: Row) -> None:
        print(f"  {row.scenario}: {'ok' if not row.failures() else 'FAIL'}", file=sys.stderr, flush=True)

    rows = asyncio.run(run_table(names, Options(outage_seconds=args.outage), report=progress))
    print(table(list(rows.values())))
    print(f"\n{len(rows)} rows in {time.monotonic() - started:.0f} s on {os.cpu_count()} CPUs")
    for name, row in rows.items():
        for failure in row.failures():
            if "\n" in failure:
                print(f"\n{name}:\n{failure}", file=sys.stderr)
    return 0 if all(not r.failures() for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
