"""Sarah's HTTP endpoints: `/slack/events` for Slack, `/healthz` for load balancers and orchestrators.

`/slack/events` checks what Bolt would choke on before Bolt sees it: a bad signature is a 401 and
one log line (Bolt would log the whole body at INFO), a body that is not the JSON or form Slack
sends, or whose `event` is not an object, is a 400 and one log line (Bolt would answer 500 with a
traceback). A body over 1 MB is refused by aiohttp with a 413 before anything reads it. No body
ever reaches a log.

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
from urllib.parse import parse_qs

from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024**2
PING_TIMEOUT_SECONDS = 2.0

Liveness = Callable[[], tuple[bool, dict[str, Any]]]


class BadRequest(ValueError):
    """A request Slack would never send; the message says what is wrong, without its content."""


def build_web_app(
    bolt: AsyncApp, redis: Redis, *, signing_secret: str | None = None, liveness: Liveness | None = None
) -> web.Application:
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()  # over client_max_size: aiohttp answers 413 itself
        if verifier is not None and not _signed(verifier, raw, request):
            log.warning("refused a /slack/events request with a missing or bad signature (%d bytes)", len(raw))
            return web.Response(status=401)
        try:
            check_slack_body(raw, request.content_type)
        except BadRequest as error:
            log.warning("refused a malformed /slack/events request: %s", error)
            return web.Response(status=400, text=str(error))
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

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    return app


def _unhandled(body: str) -> bool:
    try:
        return bool(json.loads(body).get("error") == "unhandled request")
    except (ValueError, AttributeError):
        return False


def _signed(verifier: SignatureVerifier, raw: bytes, request: web.Request) -> bool:
    """Slack's signature and a recent timestamp; a missing or non-numeric timestamp is unsigned
    (the SDK's verifier raises ValueError on it, which Bolt turns into a 500)."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not timestamp or not timestamp.isdigit() or not signature:
        return False
    return verifier.is_valid(raw, timestamp, signature)


def check_slack_body(raw: bytes, content_type: str) -> None:
    """Raise `BadRequest` unless `raw` has the shape of a Slack request (JSON event or form)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=1_000)
        except ValueError:
            raise BadRequest("the form body cannot be read") from None
        if "payload" not in form:
            return  # a slash command: plain fields
        _check_object(_json(form["payload"][0], "payload"))
        return
    if content_type != "application/json":
        raise BadRequest(f"unexpected content type {content_type[:60]!r}")
    body = _json(text, "body")
    _check_object(body)
    if "event" in body:
        event = body["event"]
        if not isinstance(event, dict):
            raise BadRequest("'event' is not an object")
        if not isinstance(event.get("type", ""), str):
            raise BadRequest("'event.type' is not a string")
        if event.get("type") in ("message", "app_mention"):  # the events Sarah reads: Slack sends strings
            for field in ("subtype", "channel_type", "user", "channel", "ts", "thread_ts", "text"):
                if event.get(field) is not None and not isinstance(event[field], str):
                    raise BadRequest(f"'event.{field}' is not a string")


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise BadRequest(f"the {what} is not valid JSON") from None


def _check_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise BadRequest("the payload is not a JSON object")
    if not isinstance(value.get("type", ""), str):
        raise BadRequest("'type' is not a string")
