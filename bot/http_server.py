"""Sarah's HTTP endpoints: `/slack/events` for Slack, `/healthz` for load balancers and orchestrators.

`/slack/events` checks what Bolt would choke on before Bolt sees it: a bad signature is a 401 and
one log line (Bolt would log the whole body at INFO), a body that is not the JSON or form Slack
sends, or whose `event` is not an object, is a 400 and one log line (Bolt would answer 500 with a
traceback). No body ever reaches a log.

The port is public, so a client that never finishes a request must not hold it: the headers must
arrive within HTTP_READ_TIMEOUT_SECONDS of connecting (or of the previous response), and the body
within that again (408 and the connection is closed). A request without a fresh timestamp and a
signature of Slack's shape is refused (401) before any of its body is read; one announcing more
than 1 MB is refused (413) from its length alone. Bodies are only read within a fixed budget of
bytes for all requests together (503 beyond it, which Slack retries), since a signature can only
be checked once the whole body is in memory: slow or forged requests cannot grow the process.

`/healthz` answers 200 only when Redis answers a PING and, in a process that runs the worker, the
worker's read loop, reclaim loop and lease renewals are recent (see bot/ops/liveness.py); otherwise 503
with a JSON body that says which part is stale, so a stuck worker gets restarted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
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
BODIES_IN_FLIGHT_BYTES = 16 * MAX_BODY_BYTES  # what all requests whose body is being read may announce together
READ_BUFFER_BYTES = 4096  # per connection, before the transport is paused
READ_TIMEOUT_SECONDS = 5.0  # Slack sends a request in milliseconds and wants its answer within 3 s
# Longer than a load balancer's idle timeout (60 s) and an HTTP client's keep-alive (15 s): a client
# then never sends on a connection Sarah is closing (seen: 13 of 3,000 burst requests failed at 5 s).
IDLE_TIMEOUT_SECONDS = 75.0
MAX_CLOCK_SKEW_SECONDS = 300  # Slack's own rule: a request older than 5 minutes is a replay
PING_TIMEOUT_SECONDS = 2.0
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

Liveness = Callable[[], tuple[bool, dict[str, Any]]]


class BadRequest(ValueError):
    """A request Slack would never send; the message says what is wrong, without its content."""


def build_runner(app: web.Application, *, idle_timeout: float = IDLE_TIMEOUT_SECONDS) -> web.AppRunner:
    """The runner of a public port: a connection whose request headers have not arrived within
    `idle_timeout` (of connecting, or of the previous response) is closed, and so is one whose
    body the handler did not read (no lingering to drain it). Each connection buffers at most a
    few KB of a body nobody reads yet (aiohttp's default is 64 KB, twice over), so idle and slow
    connections cost little memory however long they are kept."""
    return web.AppRunner(
        app, access_log=None, keepalive_timeout=idle_timeout, lingering_time=0, read_bufsize=READ_BUFFER_BYTES
    )


class BodyBudget:
    """Bytes that the requests whose body is being read may announce together (no lock: one event loop)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._taken = 0

    def take(self, size: int) -> bool:
        if self._taken + size > self._limit:
            return False
        self._taken += size
        return True

    def give_back(self, size: int) -> None:
        self._taken -= size


class EveryFewSeconds:
    """Logs one line per `seconds` at most, with how many times it happened since: a flood of
    refused requests must not become a flood of log lines."""

    def __init__(self, message: str, seconds: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._message, self._seconds, self._clock = message, seconds, clock
        self._count, self._last = 0, float("-inf")

    def happened(self) -> None:
        self._count += 1
        if self._clock() - self._last >= self._seconds:
            log.warning("%s (%d since the last such line)", self._message, self._count)
            self._count, self._last = 0, self._clock()


def build_web_app(
    bolt: AsyncApp,
    redis: Redis,
    *,
    signing_secret: str | None,
    liveness: Liveness | None = None,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """Serve it with `build_runner`, which closes connections whose headers are late.

    Without `signing_secret` anyone could post events as Slack, so there is no such server: a process
    that needs only the probes starts the ops server (bot/ops/) instead.
    """
    if not signing_secret:
        raise ValueError(
            "SLACK_SIGNING_SECRET is not set: /slack/events cannot tell Slack's requests from forged ones "
            "(copy it from the app's Basic Information page)"
        )
    verifier = SignatureVerifier(signing_secret)
    budget = BodyBudget(BODIES_IN_FLIGHT_BYTES)
    unsigned = EveryFewSeconds("refused /slack/events requests without fresh signature headers")
    busy = EveryFewSeconds("refused /slack/events requests: too many bodies being read at once (503)")
    late = EveryFewSeconds("closed /slack/events requests whose body was late (408)")

    async def slack_events(request: web.Request) -> web.Response:
        if not _signature_headers(request, clock()):
            unsigned.happened()
            return web.Response(status=401)
        announced = request.content_length
        if announced is not None and announced > MAX_BODY_BYTES:
            log.warning("refused a /slack/events request announcing %d bytes (over 1 MB)", announced)
            return web.Response(status=413)
        size = MAX_BODY_BYTES if announced is None else announced
        if not budget.take(size):
            busy.happened()
            return web.Response(status=503, headers={"Retry-After": "1"})
        try:
            raw = await asyncio.wait_for(request.read(), read_timeout)  # over 1 MB unannounced: 413
        except TimeoutError:
            late.happened()
            return web.Response(status=408)  # the body is unread: the connection is closed after this
        finally:
            budget.give_back(size)
        if not _signed(verifier, raw, request):
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


def _signature_headers(request: web.Request, now: float) -> bool:
    """Slack's headers are there, of Slack's shape, with a timestamp within 5 minutes of `now`:
    checked before the body is read, so a request that cannot be Slack's costs no body."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or len(timestamp) > 12 or not _SIGNATURE.fullmatch(signature):
        return False
    return abs(now - int(timestamp)) <= MAX_CLOCK_SKEW_SECONDS


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
