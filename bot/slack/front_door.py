"""The Slack side of Sarah's front door: a Bolt `AsyncApp` whose listeners only queue messages.

bot/http_server.py checks Slack's signature (401 on a bad one); Bolt answers `url_verification`. With
`process_before_response=True` Bolt acknowledges an event only after the listener returns, and
answers 500 if it raises, so a message that could not be queued (Redis down) is retried by Slack
instead of being lost. The listener does nothing slow: classify, then one Lua call (handlers/store/front_door.py).

A DM is one conversation, as customers write it: most people type at the top level of a DM, not
in threads, so a top-level DM joins the person's current conversation, and a reply in the thread of
such a message that same conversation (handlers/store/front_door.py). Sarah answers in the thread of the message she
answers; other DM threads (assistant threads of the agent surface) are conversations of their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import OutOfMemoryError, ResponseError
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.metrics import Metrics
from bot.slack.boundaries import Home, Middleware
from bot.slack.events import DEFAULT_MAX_MESSAGE_CHARS, Ignored, classify
from bot.slack.message_limits import Notices, counting
from handlers.store.front_door import Door
from handlers.store.inbox import InboxFull, is_inbox_full
from handlers.store.limits import Verdict

log = logging.getLogger(__name__)


class _QuietTokenFallback(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, then warns on
    every start that the token will be unused. Sarah means that (the token comes from `authorize`):
    the warning told an admin nothing, so it is dropped, and only it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_bolt_app(
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
    identity: AuthorizeResult,
    middleware: tuple[Middleware, ...] = (),
) -> AsyncApp:
    """Sarah's Bolt app, without listeners (bot/slack/listeners.py registers them all).

    `identity` is Sarah's auth.test, made once at start: Bolt would otherwise call auth.test on the
    first event and answer 200 (losing the event) if that call were rate-limited. `middleware` runs
    before every listener, in order (the workspace boundary: bot/slack/boundaries.py)."""

    async def authorize(**_: Any) -> AuthorizeResult:
        return identity

    bolt_log = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _QuietTokenFallback) for f in bolt_log.filters):
        bolt_log.addFilter(_QuietTokenFallback())
    app = AsyncApp(
        # Bolt gives each request a client with the token from `authorize`; this copy carries the
        # shared session and retry handlers without a token (a token here too makes Bolt warn).
        client=AsyncWebClient(
            base_url=client.base_url,
            session=client.session,
            timeout=client.timeout,
            retry_handlers=client.retry_handlers,
        ),
        signing_secret=signing_secret,
        authorize=authorize,
        process_before_response=True,
        # bot/http_server.py checks every /slack/events request's signature before Bolt sees it (a
        # second HMAC here cost every message CPU for nothing); Socket Mode requests carry none
        request_verification_enabled=False,
    )
    for check in middleware:
        app.use(check)
    return app


def message_listener(
    *,
    door: Door,
    notices: Notices,
    support_channel: str | None = None,
    home: Home | None = None,
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
    metrics: Metrics | None = None,
    is_support: Callable[[str], Awaitable[bool]] | None = None,
) -> Callable[..., Awaitable[None]]:
    """The listener of `message` and `app_mention` events: classify, then queue through the door.

    `home` marks Slack Connect outsiders as external. Messages of the support team (`is_support`, a
    cached lookup) in `support_channel` are never limited; everyone else's count there as anywhere."""

    async def queue_message(
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
        client: AsyncWebClient,
    ) -> None:
        started = time.perf_counter()
        message = classify(
            event,
            context.bot_user_id,
            str(body.get("event_id", "")),
            home=home,
            shared=body.get("is_ext_shared_channel") is True,
            max_chars=max_message_chars,
        )
        if isinstance(message, Ignored):
            log.debug("ignored a Slack event: %s", message.reason)
            return
        retried = bool(request.headers.get("x-slack-retry-num"))
        support_member = (
            not retried
            and message.thread.channel == support_channel
            and is_support is not None
            and await is_support(message.user)
        )
        try:
            admitted = await door.admit(message, counting(message, retried=retried, support_member=support_member))
        except ResponseError as error:  # OutOfMemoryError, or the same wrapped by a script error
            if is_inbox_full(error):  # nothing was counted or queued: Slack is answered 500 and retries
                notices.inbox_full(client, message, cap=door.inbox_cap, retried=retried)
                raise InboxFull(str(error)) from None
            if not _store_full(error):
                raise  # Slack is answered 500 and retries
            notices.store_full(client, message)  # Redis at maxmemory (noeviction): nothing new can be stored
            return
        if admitted.verdict is not Verdict.OK:
            notices.over_limit(client, message, admitted.verdict)
            return
        if metrics is not None:
            metrics.count_queued(admitted.queued, time.perf_counter() - started)
        log.info(
            "message %s" % ("queued" if admitted.queued else "already queued (Slack retry or duplicate)"),
            extra={"thread_key": admitted.message.thread.key, "kind": message.kind.value, "chars": len(message.text)},
        )
        if message.cut_from:
            log.info(
                "message cut to MAX_MESSAGE_CHARS",
                extra={"thread_key": admitted.message.thread.key, "chars": message.cut_from},
            )

    return queue_message


def _store_full(error: ResponseError) -> bool:
    """Redis at maxmemory: redis-py raises OutOfMemoryError for "-OOM …" (the "OOM" taken off its
    text); a script that met it says so inside a script error."""
    return isinstance(error, OutOfMemoryError) or "OOM" in str(error) or "maxmemory" in str(error)
