"""Sarah's HTTP endpoints: `/slack/events` for Slack, `/healthz` for load balancers."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def build_web_app(bolt: AsyncApp, redis: Redis) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        if response.status == 404 and _unhandled(response.body):
            # A payload of a shape Sarah has no listener for: acknowledge it, or Slack retries it.
            log.warning("acknowledged a Slack payload Sarah does not handle")
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    async def healthz(_: web.Request) -> web.Response:
        try:
            await redis.ping()
        except Exception as error:  # any failure means "not ready"
            return web.json_response({"ok": False, "redis": type(error).__name__}, status=503)
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=1024**2)
    app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    return app


def _unhandled(body: str) -> bool:
    try:
        return bool(json.loads(body).get("error") == "unhandled request")
    except (ValueError, AttributeError):
        return False
