"""Run Sarah: connect her clients, build her parts (bot/parts.py) and start her loops.

`Sarah(settings)` owns every connection (Redis, Slack's Web API, the model's HTTP client) and
starts what `SARAH_ROLE` asks for: the Slack ingress (HTTP server or Socket Mode), the worker, or
both in one process (the default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.http_server import build_runner, build_web_app
from bot.ops.alarms import together
from bot.ops.metrics import Metrics, SlackCallCounter
from bot.ops.outage import Outage, is_redis_trouble
from bot.ops.server import add_ops_routes, start_ops_server
from bot.ops.tracing import Tracing, build_tracing
from bot.parts import Parts, build_parts
from bot.ports import health_port
from bot.slack.boundaries import Home, boundary_filter
from bot.slack.front_door import build_bolt_app, message_listener
from bot.slack.listeners import register_listeners
from bot.startup import SlackStartError, cannot_listen, redis_failed, slack_unreachable
from bot.stopping import sleep_or_stop
from bot.worker import LoopEnded
from config import Settings, SlackMode
from config.settings import ModelSettings, RedisSettings, SlackSettings
from handlers.model import Model
from handlers.outbox import Outbox
from sarah_model.retirement import check_model_retirement, published_notices

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)


# After a Redis restart every pooled connection is stale: the first command on each fails once.
# Retrying connection errors and timeouts (on a fresh connection, after a short backoff) keeps that
# from reaching a caller, e.g. as a 500 to Slack; a PING before reusing a connection idle for
# REDIS_HEALTH_CHECK_SECONDS finds a dead one before a command is sent on it. A longer outage still
# raises after the retries: the worker's loops wait it out (bot/ops/outage.py), the ingress answers 500
# and Slack retries. Retried commands are safe to repeat: the ingress script drops a message it has
# already queued, acknowledgements and lease renewals are idempotent.
REDIS_RETRIES = 3
REDIS_RETRY_BACKOFF = (0.05, 1.0)  # base and cap, seconds
REDIS_HEALTH_CHECK_SECONDS = 5
REDIS_CONNECT_TIMEOUT_SECONDS = 5
REDIS_SOCKET_TIMEOUT_SECONDS = 15  # longer than any blocking read (the worker blocks 0.5 s)


def build_redis(settings: RedisSettings, url: str) -> Redis:
    """A client whose pool waits for a free connection instead of raising when it is full, and
    that rides out a Redis restart (see above).

    REDIS_CLUSTER: a `RedisCluster` that finds every node from the one in `url` (each of Sarah's
    scripts and transactions touches keys of one hash tag, so one slot). REDIS_SENTINELS: a client of
    the master the Sentinels name, which follows a failover; `url` (may be empty) then gives only the
    password and db. The cluster client has the commands the stores use, under the same names, so it
    is typed as `Redis` for them.
    """
    base, cap = REDIS_RETRY_BACKOFF
    resilience: dict[str, Any] = {
        "retry": Retry(ExponentialWithJitterBackoff(base=base, cap=cap), REDIS_RETRIES),
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    }
    if settings.redis_cluster:
        # redis-py's cluster pool cannot wait: REDIS_MAX_CONNECTIONS is per node and must cover the load.
        cluster = RedisCluster.from_url(url, max_connections=settings.redis_max_connections, **resilience)
        return cast(Redis, cluster)
    if settings.redis_sentinels:
        options = parse_url(url) if url else {}
        sentinel = Sentinel(
            settings.sentinel_addresses,
            socket_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
            sentinel_kwargs={"socket_timeout": REDIS_CONNECT_TIMEOUT_SECONDS, "password": options.get("password")},
        )
        master: Redis = sentinel.master_for(
            settings.redis_sentinel_master,
            connection_pool_class=_BlockingSentinelPool,
            max_connections=settings.redis_max_connections,
            timeout=10,
            db=int(options.get("db") or 0),
            username=options.get("username"),
            password=options.get("password"),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
            **resilience,
        )
        return master
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_max_connections,
        timeout=10,
        retry=resilience["retry"],
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=REDIS_HEALTH_CHECK_SECONDS,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
    )
    return Redis(connection_pool=pool)


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool (asks the Sentinels where the master is) that waits for a free connection."""


def build_slack_client(
    settings: SlackSettings, session: aiohttp.ClientSession, metrics: Metrics | None = None
) -> AsyncWebClient:
    """One shared aiohttp session (slack_sdk opens a new one per call otherwise), with retries on 429."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        logger=_slack_logger(),
        retry_handlers=[
            *([SlackCallCounter(metrics)] if metrics is not None else []),  # counts calls and 429s, never retries
            AsyncRateLimitErrorRetryHandler(max_retry_count=settings.slack_rate_limit_retries),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def _slack_logger() -> logging.Logger:
    """slack_sdk's logger with its own level set (to the level it has now, from bot/ops/logs.py).

    slack_sdk formats a debug line of every request and response (headers, the whole body) whenever
    its logger's own level is unset, before the logger drops it: about 30 µs per call."""
    logger = logging.getLogger("slack_sdk.web.async_client")
    logger.setLevel(logger.getEffectiveLevel())
    return logger


def build_model(settings: ModelSettings) -> Model:
    """The OpenAI-compatible model, or the offline one when no API is configured."""
    if settings.offline:
        from sarah_model.offline import OfflineModel

        log.info("no OPENAI_API_KEY or OPENAI_BASE_URL: Sarah answers with the offline model")
        offline: Model = OfflineModel.from_knowledge_base()
        return offline
    from openai import AsyncOpenAI, DefaultAioHttpClient

    from sarah_model.openai_chat import OpenAIChatModel

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = AsyncOpenAI(
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.model_timeout_seconds,
        max_retries=settings.model_max_retries,
        http_client=DefaultAioHttpClient(),
    )
    return OpenAIChatModel(
        client,
        settings.sarah_model,
        max_tokens=settings.model_max_reply_tokens,
        temperature=settings.model_temperature,
    )


class SarahFailed(Exception):
    """A loop Sarah cannot work without ended; the process must exit non-zero so it is restarted."""


async def _warn_if_retiring(client: AsyncOpenAI, model: str, base_url: str | None) -> None:
    """Log, without delaying the start, when the model (or its base) is about to be shut down, or
    cannot be reached: Sarah still takes messages then, and answers them once the model is back."""
    from openai import APIConnectionError

    try:
        for notice in await check_model_retirement(client, model, datetime.now(UTC).date()):
            log.warning("model retirement: %s", notice)
    except APIConnectionError as error:
        log.warning(
            "the model could not be reached at %s (%s): Sarah takes messages and answers them once it is "
            "back; check OPENAI_BASE_URL",
            base_url or "https://api.openai.com/v1 (OPENAI_BASE_URL unset)",
            "timed out" if "timed out" in str(error).lower() else "connection failed",
        )
        for notice in published_notices(model, datetime.now(UTC).date()):
            log.warning("model retirement: %s", notice)
    except Exception:  # a lookup that fails otherwise says nothing about the model
        log.debug("could not look up the model's shutdown date", exc_info=True)


@dataclass
class Sarah:
    """One Sarah process: her connections, her parts (built from `settings`) and the loops she runs."""

    settings: Settings
    redis_url: str
    model: Model | None = None  # injected by tests and the local chat; built from settings otherwise
    outbox: Outbox | None = None
    http_port: int | None = None
    health_port: int | None = None  # where /healthz, /readyz and /metrics answer (None: nowhere, the local chat)
    metrics: Metrics = field(default_factory=Metrics)
    tracing: Tracing | None = None  # built from OTEL_EXPORTER_OTLP_ENDPOINT unless given
    # Set by `start`:
    redis: Redis = field(init=False, repr=False)
    slack: AsyncWebClient = field(init=False, repr=False)
    parts: Parts = field(init=False, repr=False)
    _session: aiohttp.ClientSession = field(init=False, repr=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _cleanups: list[Any] = field(default_factory=list)  # stop taking work: the Slack ingress
    _closers: list[Any] = field(default_factory=list)  # then close clients, once the work is done
    _down: asyncio.Event = field(default_factory=asyncio.Event)  # stopped, or a supervised loop ended
    _failure: str | None = None

    async def start(self) -> None:
        """Connect, build the parts, refuse an unsafe support team, then start what SARAH_ROLE asks for.

        Raises `StartupError` (one sentence naming the setting to change) when Redis or Slack cannot
        be reached, a token is refused or a port is taken; whatever was started is stopped first."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        self.redis = build_redis(s.redis, self.redis_url)
        try:
            await self.redis.ping()
        except (RedisError, RedisClusterException, OSError) as error:
            raise redis_failed(s.redis, self.redis_url, error) from error
        self._session = aiohttp.ClientSession()
        self.slack = build_slack_client(s.slack, self._session, self.metrics)
        self.tracing = self.tracing or build_tracing(s.log.otel_exporter_otlp_endpoint)
        self._closers.append(self._shutdown_tracing)
        if self.model is None:
            self.model = build_model(s.model)
            closer = getattr(self.model, "aclose", None)
            if closer is not None:
                self._closers.append(closer)
            client = getattr(self.model, "client", None)
            if client is not None:
                self._tasks.append(
                    asyncio.create_task(_warn_if_retiring(client, s.model.sarah_model, s.model.openai_base_url))
                )
        self.parts = build_parts(
            s,
            redis=self.redis,
            slack=self.slack,
            model=self.model,
            metrics=self.metrics,
            tracing=self.tracing,
            outbox=self.outbox,
        )
        if s.slack.mode is not SlackMode.LOCAL:
            await self._refuse_an_unsafe_support_team()
        worker = self.parts.worker
        if worker is not None:
            self._supervise(asyncio.create_task(worker.run(self._stop), name="worker"))
            self._supervise(asyncio.create_task(self._remind_forever(), name="reminders"))
            if self.parts.webhooks is not None:
                self._tasks.append(asyncio.create_task(self.parts.webhooks.run(self._stop), name="webhooks"))
        self.parts.health.loops = [t for t in self._tasks if t.get_name() in ("worker", "reminders")]
        if s.slack.mode is not SlackMode.LOCAL:
            auth = await self._auth_test()  # a worker checks its token too, though only the ingress needs who it is
            if s.worker.sarah_role in ("all", "ingress"):
                self.parts.health.needs_identity = True
                await self._start_ingress(auth)
        await self._start_ops()

    async def _auth_test(self) -> Any:
        """Who SLACK_BOT_TOKEN is (auth.test); a refused token or an unreachable Slack stops the start."""
        try:
            return await self._slack_call(self.slack.auth_test())  # retried on 429, 5xx and connection errors
        except SlackApiError as error:
            raise SlackStartError(
                f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error', 'unknown error')}): "
                "copy the Bot User OAuth Token again from the app's OAuth & Permissions page"
            ) from None

    async def _slack_call(self, call: Awaitable[Any]) -> Any:
        """A Slack call made while starting: an unreachable Slack becomes a sentence naming SLACK_API_URL."""
        try:
            return await call
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise slack_unreachable(self.settings.slack, error) from error

    async def _refuse_an_unsafe_support_team(self) -> None:
        """Only the support team speaks for ZenNest: never start with a team anyone could join."""
        try:
            problem = await self._slack_call(self.parts.team.why_unsafe())
        except SlackApiError as error:
            code = error.response.get("error", "unknown error")
            if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
                return  # the token itself is refused: auth.test below says so plainly
            problem = (
                f"Sarah cannot read SUPPORT_CHANNEL {self.settings.handoff.support_channel} ({code}): invite her to it"
            )
        if problem:
            raise SlackStartError(problem)

    async def _start_ingress(self, auth: Any) -> None:
        s, parts = self.settings.slack, self.parts
        secret = s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None
        identity = AuthorizeResult.from_auth_test_response(auth_test_response=auth, bot_token=self.slack.token)
        home = await self._home(auth)
        parts.health.identity_resolved = True
        bolt = build_bolt_app(
            client=self.slack, signing_secret=secret, identity=identity, middleware=(boundary_filter(home),)
        )
        await parts.app_home.remember_workspace(str(auth.get("url") or ""))
        register_listeners(
            bolt,
            messages=message_listener(
                door=parts.door,
                notices=parts.notices,
                support_channel=self.settings.handoff.support_channel,
                home=home,
                metrics=self.metrics,
                max_message_chars=s.max_message_chars,
                is_support=parts.team.is_member,
            ),
            actions=parts.actions,
            home=home,
            app_home=parts.app_home,
            ratings=parts.ratings,
            after_ack=parts.after_ack,
            prompts_title=self.settings.texts.suggested_prompts_title,
            prompts=self.settings.texts.prompts,
        )
        # the work of presses and commands acknowledged already: finished after the door closes (cleanups
        # run last-in first-out), before Redis and Slack's session are closed
        self._cleanups.append(parts.after_ack.drain)
        if s.mode is SlackMode.SOCKET:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert s.slack_app_token is not None
            app_token = s.slack_app_token.get_secret_value()
            # slack_sdk retries a failed connect forever, logging a traceback each time: ask for the
            # socket's URL here, once, so a refused SLACK_APP_TOKEN stops the start with one sentence.
            try:
                opened = await self._slack_call(self.slack.apps_connections_open(app_token=app_token))
            except SlackApiError as error:
                raise SlackStartError(
                    f"Slack refused SLACK_APP_TOKEN ({error.response.get('error', 'unknown error')}): copy the "
                    "app-level token (scope connections:write) again from the app's Basic Information page"
                ) from None
            handler = AsyncSocketModeHandler(bolt, app_token)
            handler.client.wss_uri = str(opened["url"])
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self._cleanups.append(handler.close_async)
            log.info("connected to Slack in Socket Mode")
            return
        liveness = together(parts.worker.liveness.report if parts.worker else None, parts.health.alarms.report)
        app = build_web_app(
            bolt, self.redis, signing_secret=secret, liveness=liveness, read_timeout=s.http_read_timeout_seconds
        )
        if self._health_on_slack_port():  # build_web_app has its /healthz
            add_ops_routes(app, parts.health, healthz=False, metrics=s.sarah_metrics_on_slack_port)
        runner = build_runner(app, idle_timeout=s.http_idle_timeout_seconds)
        await runner.setup()
        self._cleanups.append(runner.cleanup)
        try:
            await web.TCPSite(runner, s.sarah_host, s.sarah_port).start()
        except OSError as error:
            raise cannot_listen(s, self.settings.worker, s.sarah_port, "SARAH_PORT", error) from error
        self.http_port = runner.addresses[0][1]
        log.info("listening for Slack on http://%s:%s/slack/events", s.sarah_host, self.http_port)

    def _health_on_slack_port(self) -> bool:
        """SARAH_HEALTH_PORT unset or SARAH_PORT: the probes share the Slack server (0 is a port of its own)."""
        s = self.settings.slack
        return s.mode is SlackMode.HTTP and (s.sarah_health_port is None or s.sarah_health_port == s.sarah_port != 0)

    async def _start_ops(self) -> None:
        """/healthz, /readyz and /metrics: beside /slack/events in HTTP mode, else on a server of their own."""
        s = self.settings.slack
        if s.mode is SlackMode.LOCAL:
            return  # the terminal chat: nothing to probe
        if self.http_port is not None and self._health_on_slack_port():
            self.health_port = self.http_port
            return
        port = health_port(self.settings.worker.sarah_role, s.sarah_port, s.sarah_health_port)
        setting = "SARAH_HEALTH_PORT" if s.sarah_health_port is not None or port != s.sarah_port else "SARAH_PORT"
        try:
            runner, self.health_port = await start_ops_server(self.parts.health, s.sarah_host, port)
        except OSError as error:
            raise cannot_listen(s, self.settings.worker, port, setting, error) from error
        self._closers.append(runner.cleanup)  # probes keep answering while threads in progress finish

    async def _shutdown_tracing(self) -> None:
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)  # flushes the last spans

    async def _home(self, auth: Any) -> Home:
        """The workspace (auth.test's team and org) and app (bots.info) Sarah accepts payloads from."""
        s = self.settings.slack
        team = str(auth.get("team_id") or "")
        if s.slack_team_id and team and s.slack_team_id != team:
            raise SlackStartError(
                f"SLACK_TEAM_ID: is {s.slack_team_id}, but SLACK_BOT_TOKEN belongs to workspace {team}: "
                "fix or unset SLACK_TEAM_ID"
            )
        app_id = s.slack_app_id
        if app_id is None and auth.get("bot_id"):
            try:
                app_id = ((await self.slack.bots_info(bot=str(auth["bot_id"]))).get("bot") or {}).get("app_id")
            except SlackApiError as error:
                log.warning(
                    "could not learn Sarah's app id (bots.info: %s); set SLACK_APP_ID to check it",
                    error.response.get("error", "unknown error"),
                )
        home = Home(
            team_id=s.slack_team_id or team,
            app_id=app_id,
            enterprise_id=s.slack_enterprise_id or auth.get("enterprise_id") or None,
        )
        log.info(
            "accepting Slack payloads from team %s, app %s, enterprise %s",
            home.team_id,
            home.app_id or "(any)",
            home.enterprise_id or "(none)",
        )
        return home

    async def _remind_forever(self) -> None:
        """Re-announce unclaimed cards, remind of targets about to be missed, post the weekly digest;
        any number of processes may run this (popping is atomic, the digest's week is taken with SET NX)."""
        interval = min(self.settings.handoff.handoff_reminder_minutes * 60 / 4, 30.0)
        outage = Outage("reminders")
        while not self._stop.is_set():
            if await sleep_or_stop(self._stop, interval):
                return
            try:
                await self.parts.stats.flush()  # the conversations counted in memory since the last beat
                await self.parts.handoff.remind_due()
                await self.parts.breaches.check_due()
                if self.parts.digest is not None:
                    await self.parts.digest.post_if_due()
            except Exception as error:  # a Slack or Redis hiccup must not end the reminders
                if is_redis_trouble(error):
                    outage.failed("re-announcing cards", error)
                else:
                    log.exception("reminders failed this round")
                continue
            outage.ended()

    def _supervise(self, task: asyncio.Task[Any]) -> None:
        """Sarah is not Sarah without this loop: if it ends unasked, `wait` raises `SarahFailed`."""
        self._tasks.append(task)
        task.add_done_callback(self._loop_ended)

    def _loop_ended(self, task: asyncio.Task[Any]) -> None:
        if self._stop.is_set():
            return
        error = None if task.cancelled() else task.exception()
        how = "was cancelled" if task.cancelled() else (f"failed: {type(error).__name__}" if error else "returned")
        self._failure = f"the {task.get_name()} loop {how}"
        if isinstance(error, LoopEnded):
            self._failure = str(error)
        log.critical("%s; Sarah stops so that she is restarted", self._failure, exc_info=error)
        self._down.set()

    async def wait(self) -> None:
        """Until `stop` is called; raises `SarahFailed` when a supervised loop ended on its own."""
        await self._down.wait()
        if self._failure is not None:
            raise SarahFailed(self._failure)

    async def stop(self) -> None:
        """Stop taking messages, let the threads in progress finish, then close the connections."""
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        self._cleanups.clear()
        self._stop.set()
        self._down.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        stats = getattr(getattr(self, "parts", None), "stats", None)
        if stats is not None:
            with contextlib.suppress(Exception):  # Redis gone: those counts are lost, nothing else
                await stats.flush()
        for closer in self._closers:
            with contextlib.suppress(Exception):
                await closer()
        self._closers.clear()
        if hasattr(self, "_session"):  # not there when the start failed before Slack
            await self._session.close()
        if hasattr(self, "redis"):
            await self.redis.aclose()
