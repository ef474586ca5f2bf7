"""What operators and orchestrators ask every Sarah process: /healthz, /readyz and /metrics.

- `/healthz` (liveness): Redis answers a PING and the loops this process cannot work without are
  alive (the worker's read, reclaim and lease renewals, the reminders): the same answer in every
  role as HTTP mode's /healthz (bot/http_server.py). Probes should allow a Redis restart
  (Kubernetes: failureThreshold × period well above it) before they restart the process.
- `/readyz` (readiness): healthy, and Slack's identity (auth.test) resolved in a process that takes
  Slack events. A load balancer sends nothing to a replica that is not ready.
- `/metrics`: Prometheus text; the queue gauges are read from Redis at scrape time, at a cost that
  does not grow with the queue (a few set sizes kept up to date at each change of hands).

In HTTP mode /healthz and /readyz sit beside /slack/events on SARAH_PORT unless SARAH_HEALTH_PORT
names another port; /metrics is not served on the port Slack reaches (anyone who can reach Slack's
endpoint could read the counts) unless SARAH_METRICS_ON_SLACK_PORT=true. In Socket Mode and for
workers a small server of their own listens on SARAH_HEALTH_PORT (default SARAH_PORT; SARAH_PORT + 1 for a
worker, bot/ports.py), so the
image's HEALTHCHECK and Kubernetes probes work for every role.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot.http_server import build_runner
from bot.ops.alarms import Alarms
from bot.ops.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 2.0
Report = Callable[[], tuple[bool, dict[str, Any]]]


@dataclass
class Health:
    """What the probes look at; the runtime fills it in as the parts start."""

    redis: Redis
    metrics: Metrics
    needs_identity: bool = False  # this process takes Slack events
    identity_resolved: bool = False
    loops: list[asyncio.Task[Any]] = field(default_factory=list)  # must not end while Sarah runs
    worker: Report | None = None  # the worker's own liveness report, when this process runs one
    refreshers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # gauges read at scrape
    alarms: Alarms = field(default_factory=Alarms)  # Redis refusing writes, a full inbox, a refused token

    async def live(self) -> tuple[bool, dict[str, Any]]:
        """The same answer as /healthz in HTTP mode: Redis answers and the worker's loops are recent."""
        body: dict[str, Any] = {"redis": "ok"}
        ok = True
        try:
            await asyncio.wait_for(self.redis.ping(), PING_TIMEOUT_SECONDS)
        except Exception as error:  # any failure means "not healthy"
            ok, body["redis"] = False, type(error).__name__
        ended = sorted(t.get_name() for t in self.loops if t.done())
        if ended:
            ok, body["loops_ended"] = False, ended
        if self.worker is not None:
            working, body["worker"] = self.worker()
            ok = ok and working
        calm, alarms = self.alarms.report()
        return ok and calm, {**body, **alarms}

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        """Live, and Slack's identity resolved where this process takes Slack events."""
        ok, body = await self.live()
        if self.needs_identity:
            body["slack_identity"] = "resolved" if self.identity_resolved else "not yet"
            ok = ok and self.identity_resolved
        return ok, body


def add_ops_routes(app: web.Application, health: Health, *, healthz: bool = True, metrics: bool = True) -> None:
    """/readyz, /metrics unless `metrics` is False, and /healthz unless the app has its own, on `app`."""

    async def healthz_route(_: web.Request) -> web.Response:
        ok, body = await health.live()
        return web.json_response({"ok": ok, **body}, status=200 if ok else 503)

    async def readyz_route(_: web.Request) -> web.Response:
        ok, body = await health.ready()
        return web.json_response({"ok": ok, **body}, status=200 if ok else 503)

    async def metrics_route(_: web.Request) -> web.Response:
        for refresh in health.refreshers:
            try:
                await asyncio.wait_for(refresh(), PING_TIMEOUT_SECONDS)
            except Exception as error:  # stale gauges beat a failed scrape
                log.warning("could not read the queue gauges: %s", type(error).__name__)
        return web.Response(body=health.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    if healthz:
        app.router.add_get("/healthz", healthz_route)
    app.router.add_get("/readyz", readyz_route)
    if metrics:
        app.router.add_get("/metrics", metrics_route)


async def start_ops_server(health: Health, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The probes' own server (Socket Mode, workers); returns the runner and the port it got."""
    app = web.Application()
    add_ops_routes(app, health)
    runner = build_runner(app)  # slow clients are cut off here too
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    log.info("health and metrics on http://%s:%s/healthz, /readyz, /metrics", host, bound)
    return runner, int(bound)
