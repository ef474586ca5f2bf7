"""Sarah's HTTP endpoints: `/slack/events` for Slack, `/healthz` for load balancers and orchestrators.

`/healthz` answers 200 only when Redis answers a PING and, in a process that runs the worker, the
worker's read loop, reclaim loop and lease renewals are recent (see bot/liveness.py); otherwise 503
with a JSON body that says which part is stale, so a stuck worker gets restarted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
PING_TIMEOUT_SECONDS = 2.0

Liveness = Callable[[], tuple[bool, dict[str, Any]]]


def build_web_app(bolt: AsyncApp, redis: Redis, *, liveness: Liveness | None = None) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        if response.status == 404 and _unhandled(response.body):
            # A payload of a shape Sarah has no listener for: acknowledge it, or Slack retries it.
            log.warning("acknowledged a Slack payload Sarah does not handle")
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    async def healthz(_: web.Request) -> web.Response:
        body: dict[str, Any] = {"ok": True, "redis": "ok"}
        try:
            await asyncio.wait_for(redis.ping(), PING_TIMEOUT_SECONDS)
        except Exception as error:  # any failure means "not ready"
            body.update(ok=False, redis=type(error).__name__)
        if liveness is not None:
            working, body["worker"] = liveness()
            body["ok"] = body["ok"] and working
        return web.json_response(body, status=200 if body["ok"] else 503)

    app = web.Application(client_max_size=1024**2)
    app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    return app


def _unhandled(body: str) -> bool:
    try:
        return bool(json.loads(body).get("error") == "unhandled request")
    except (ValueError, AttributeError):
        return False
