"""Sarah's parts, built from her settings and the clients she has already connected.

`build_parts` only constructs and wires objects: it pings nothing, calls no Slack method and starts
no task, so it can be read (and tested) as a plain map of what talks to what. Each part gets what it
talks to, and the observers it reports to (bot/ops/observers.py), when it is built; nothing is set
on a part afterwards. `bot/runtime.py` connects the clients before and starts the loops after.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.alarms import Alarms
from bot.ops.breaches import Breaches
from bot.ops.metrics import Metrics, refresh_queue_gauges, refresh_stream_gauges
from bot.ops.observed_model import ObservedModel, provider_name
from bot.ops.observers import HandoffWatch, PassWatch, QueueCounts
from bot.ops.server import Health
from bot.ops.service_watch import ServiceWatch
from bot.ops.tracing import Tracing
from bot.ops.webhooks import HandoffEvents, WebhookDelivery, workspace_url_from
from bot.slack.actions import SupportActions
from bot.slack.after_ack import AfterAck
from bot.slack.app_home import AppHome
from bot.slack.digest import WeeklyDigest
from bot.slack.message_limits import Notices
from bot.slack.outbox import SlackOutbox
from bot.slack.ratings import Ratings
from bot.slack.stream import SlackStreams
from bot.slack.support_team import SupportTeam
from bot.slack.text import LinkPolicy
from bot.slack.thread_history import SlackThreadReader
from bot.worker import Worker
from config import Settings, SlackMode
from config.support_hours import parse_weekly
from handlers.delivery import Texts
from handlers.failures import Policy
from handlers.handoff import Handoff, HandoffTexts
from handlers.hooks import NO_HOOKS, ThreadStoreHooks
from handlers.messages import ThreadRef
from handlers.model import Model
from handlers.outbox import Outbox, Streams
from handlers.pipeline import Pipeline
from handlers.service_levels import Targets
from handlers.store.app_home_state import AppHomeState
from handlers.store.dead_letters import DeadLetters
from handlers.store.forget import Forgetter
from handlers.store.front_door import Door
from handlers.store.handoff_events import HandoffEventQueue
from handlers.store.inbox import Inbox
from handlers.store.limits import Limits
from handlers.store.once import OnceMarkers
from handlers.store.open_handoffs import OpenHandoffs
from handlers.store.ownership import OwnershipStore
from handlers.store.ratings import RatingStore
from handlers.store.service_stats import ServiceStats
from handlers.store.stream_budget import StreamBudget
from handlers.store.target_checks import TargetChecks
from handlers.store.thread_store import ThreadStore
from handlers.tokens import encoder_for
from handlers.who_moves import nobody_is_support
from sarah_model.knowledge import load_knowledge_base
from sarah_model.sections import SectionFinder

PASS_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class Parts:
    """Every long-lived object of one Sarah process apart from her connections."""

    store: ThreadStore  # reports each posted card to the hand-off watch
    open_handoffs: OpenHandoffs
    ownership: OwnershipStore  # reports each change of hands to the hand-off watch
    inbox: Inbox
    team: SupportTeam
    limits: Limits
    outbox: Outbox
    streams: Streams | None  # where answers are streamed (Slack's outbox); None: each answer is one message
    handoff: Handoff
    pipeline: Pipeline
    dead_letters: DeadLetters
    worker: Worker | None  # None when SARAH_ROLE=ingress
    app_home: AppHome
    door: Door  # the ingress: what a Slack event becomes in Redis
    notices: Notices  # the ingress: why a message was not queued, told to its sender
    after_ack: AfterAck  # the work of presses and commands, done after Slack has its acknowledgement
    actions: SupportActions  # the ingress: the buttons and `/sarah`, registered with Sarah's home workspace
    health: Health  # the runtime adds the loops it starts and whether it waits for Slack's identity
    stats: ServiceStats  # the support team's numbers: flushed by the reminders loop and at stop
    breaches: Breaches  # reminders before and at a missed target: checked by the reminders loop
    digest: WeeklyDigest | None = None  # WEEKLY_DIGEST set, with Slack: posted by the reminders loop
    webhooks: WebhookDelivery | None = None  # HANDOFF_WEBHOOK_URL set: the runtime runs its delivery loop
    ratings: Ratings | None = None  # with Slack: the question after a resolve and its buttons


def build_parts(
    settings: Settings,
    *,
    redis: Redis,
    slack: AsyncWebClient,
    model: Model,
    metrics: Metrics,
    tracing: Tracing,
    outbox: Outbox | None = None,
) -> Parts:
    """Sarah's parts wired together; `outbox` replaces Slack's (the local chat prints instead)."""
    s = settings
    in_slack = s.slack.mode is not SlackMode.LOCAL
    ttl = s.retention.conversation_ttl_seconds
    # What watches the stores reads and records through stores of its own, without hooks: the
    # stores that report to it are built after it.
    threads = _thread_store(s, redis)
    service_times = OwnershipStore(redis, ttl_seconds=ttl, max_turns=s.retention.max_stored_turns)
    open_handoffs = OpenHandoffs(redis, threads, ttl_seconds=ttl)
    stats = ServiceStats(redis, clock=time.time)
    targets = Targets.from_settings(s.service)
    webhooks, events = _webhooks(s, redis, threads)
    topics = SectionFinder(load_knowledge_base())
    team = SupportTeam(
        slack,
        channel=s.handoff.support_channel,
        usergroup=s.handoff.support_usergroup,
        cache_seconds=s.handoff.support_team_cache_seconds,
        allow_public=s.handoff.support_channel_allow_public,
    )
    if outbox is None:
        outbox, streams = _slack_outbox(s, redis, slack, in_slack)
    else:
        streams = None
    breaches = Breaches(
        TargetChecks(redis, ttl_seconds=ttl),
        threads,
        outbox,
        targets,
        usergroup=s.handoff.support_usergroup,
        clock=time.time,
    )
    service = ServiceWatch(metrics, targets, stats, events, topic_of=_topic_of(threads, topics), breaches=breaches)
    # App Home follows hand-offs from whichever process changes them (a worker escalates, the
    # ingress takes the Claim button), so every process connected to Slack publishes it.
    app_home = AppHome(slack, AppHomeState(redis, ttl_seconds=ttl), open_handoffs, team.is_member, targets=targets)
    handoffs = HandoffWatch(
        service_times=service_times,
        queue=open_handoffs,
        metrics=metrics,
        service=service,
        refreshes=(app_home.refresh,) if in_slack else (),
    )
    store = _thread_store(s, redis, hooks=handoffs)
    ownership = OwnershipStore(redis, ttl_seconds=ttl, max_turns=s.retention.max_stored_turns, hooks=handoffs)
    counts = QueueCounts(metrics)
    inbox = Inbox(
        redis, dedupe_ttl_seconds=s.retention.dedupe_ttl_seconds, max_length=s.redis.stream_max_length, hooks=counts
    )
    limits = Limits(
        redis,
        messages_per_minute=s.limits.user_messages_per_minute,
        max_open_threads=s.limits.user_max_open_threads,
        index_ttl_seconds=ttl,  # refreshed by each of the person's messages
        max_thread_bytes=s.limits.user_max_thread_bytes,
        max_stored_bytes=s.limits.user_max_stored_bytes,
    )
    # A wrapper rather than a hook: the hand-off's summary calls the model too, and every call is measured.
    observed = ObservedModel(model, metrics, tracing, provider=provider_name(s.model.openai_base_url, s.model.offline))
    ratings = (
        Ratings(RatingStore(redis), slack, store, outbox, metrics=metrics, stats=stats, events=events, clock=time.time)
        if in_slack
        else None
    )
    handoff = Handoff(
        store,
        ownership,
        outbox,
        observed,
        texts=HandoffTexts.from_settings(s.texts),
        reminder_seconds=s.handoff.handoff_reminder_minutes * 60,
        limits=limits,
        max_reminders=s.handoff.handoff_max_reminders,
        slot_ttl_seconds=ttl,
        after_resolve=ratings.ask if ratings is not None and s.service.rating_after_resolve else None,
    )
    pipeline = Pipeline(
        store,
        ownership,
        handoff,
        observed,
        outbox,
        encoder=encoder_for(s.model.sarah_model),
        token_budget=s.model.prompt_token_budget,
        texts=Texts.from_settings(s.texts, s.slack.max_message_chars),
        policy=Policy(
            handoff_after_failures=s.handoff.handoff_after_failures,
            consecutive=s.handoff.handoff_count == "consecutive",
        ),
        max_redrafts=s.worker.max_redrafts,
        is_support=team.is_member if in_slack else nobody_is_support,
        streams=streams,
        thread_reader=SlackThreadReader(slack, max_chars=s.slack.max_message_chars) if in_slack else None,
        hooks=PassWatch(metrics, tracing, stats),
    )
    dead_letters = DeadLetters(
        redis,
        max_length=s.redis.stream_max_length,
        retention_seconds=s.retention.dead_letter_retention_days * 86_400,
        hooks=counts,
    )
    alarms = Alarms(once=OnceMarkers(redis))  # the team is told once across the processes sharing this Redis
    worker = (
        _worker(s, inbox, store, pipeline, dead_letters, alarms) if s.worker.sarah_role in ("all", "worker") else None
    )
    after_ack = AfterAck()
    return Parts(
        store=store,
        open_handoffs=open_handoffs,
        ownership=ownership,
        inbox=inbox,
        team=team,
        limits=limits,
        outbox=outbox,
        streams=streams,
        handoff=handoff,
        pipeline=pipeline,
        dead_letters=dead_letters,
        worker=worker,
        app_home=app_home,
        door=Door(redis, inbox=inbox, store=store, limits=limits),
        notices=Notices(
            max_open_threads=limits.max_open_threads, alarms=alarms, support_channel=s.handoff.support_channel
        ),
        after_ack=after_ack,
        actions=SupportActions(
            inbox=inbox,
            after=after_ack,
            store=store,
            handoff=handoff,
            ownership=ownership,
            team=team,
            limits=limits,
            forgetter=Forgetter(redis),
            retention_days=s.retention.conversation_ttl_days,
            metrics=metrics,
        ),
        health=Health(
            redis,
            metrics,
            alarms=alarms,
            worker=worker.liveness.report if worker else None,
            refreshers=[
                lambda: refresh_stream_gauges(metrics, inbox),
                lambda: refresh_queue_gauges(metrics, open_handoffs),
            ],
        ),
        stats=stats,
        breaches=breaches,
        digest=_digest(s, redis, slack, stats, topics, open_handoffs) if in_slack else None,
        webhooks=webhooks,
        ratings=ratings,
    )


def _thread_store(s: Settings, redis: Redis, hooks: ThreadStoreHooks = NO_HOOKS) -> ThreadStore:
    return ThreadStore(
        redis,
        ttl_seconds=s.retention.conversation_ttl_seconds,
        max_turns=s.retention.max_stored_turns,
        lease_seconds=s.worker.thread_lease_seconds,
        hold_unknown_thread_seconds=s.worker.hold_unknown_thread_seconds,
        dm_idle_seconds=s.retention.dm_conversation_idle_minutes * 60,
        hooks=hooks,
    )


def _slack_outbox(s: Settings, redis: Redis, slack: AsyncWebClient, in_slack: bool) -> tuple[Outbox, Streams | None]:
    """Slack's outbox, and the same outbox as where answers are streamed when STREAM_ANSWERS is on."""
    streams = None
    if s.slack.stream_answers and in_slack:
        streams = SlackStreams(
            slack,
            StreamBudget(redis, per_minute=s.slack.stream_answers_per_minute),
            links=LinkPolicy(s.texts.link_domains),
            workspace=s.slack.slack_team_id or "",
        )
    outbox = SlackOutbox(
        slack,
        thinking_text=s.texts.text_thinking,
        support_channel=s.handoff.support_channel,
        links=LinkPolicy(s.texts.link_domains),
        status_text=s.texts.text_status,
        loading_messages=s.texts.loading_messages,
        streams=streams,
    )
    return outbox, outbox if streams is not None else None


def _worker(
    s: Settings, inbox: Inbox, store: ThreadStore, pipeline: Pipeline, dead_letters: DeadLetters, alarms: Alarms
) -> Worker:
    pass_seconds = None  # the offline model answers in milliseconds: no deadline to watch
    if not s.model.offline:
        from sarah_model.openai_chat import call_deadline

        # every draft of a pass may call the model; the margin covers the pass's Slack and Redis calls
        deadline = call_deadline(s.model.model_timeout_seconds, s.model.model_max_retries)
        pass_seconds = deadline * (s.worker.max_redrafts + 1) + PASS_MARGIN_SECONDS
    return Worker(
        inbox,
        store,
        pipeline,
        dead_letters,
        concurrency=s.worker.worker_concurrency,
        read_batch=s.worker.worker_read_batch,
        lease_seconds=s.worker.thread_lease_seconds,
        reclaim_idle_seconds=s.worker.reclaim_idle_seconds,
        coalesce_seconds=s.worker.coalesce_seconds,
        dead_letter_after_passes=s.worker.dead_letter_after_passes,
        consumer_idle_remove_seconds=s.worker.consumer_idle_remove_seconds,
        stale_seconds=s.worker.worker_stale_seconds,
        failed_pass_ttl_seconds=s.retention.dedupe_ttl_seconds,
        alarms=alarms,
        pass_seconds=pass_seconds,
    )


def _topic_of(store: ThreadStore, topics: SectionFinder) -> Callable[[ThreadRef], Awaitable[str]]:
    """What a handed-off thread's customer asked about, as a knowledge-base section id: one read of
    the thread at hand-off time, and only the section's id is kept."""

    async def topic_of(thread: ThreadRef) -> str:
        turns = await store.episode(thread)
        return topics.topic(" ".join(t.content for t in turns if t.role == "user"))

    return topic_of


def _webhooks(s: Settings, redis: Redis, store: ThreadStore) -> tuple[WebhookDelivery | None, HandoffEvents | None]:
    w = s.webhook
    if not w.handoff_webhook_url or w.handoff_webhook_secret is None:
        return None, None
    queue = HandoffEventQueue(redis)
    delivery = WebhookDelivery(
        queue,
        url=w.handoff_webhook_url,
        secret=w.handoff_webhook_secret.get_secret_value(),
        max_attempts=w.handoff_webhook_max_attempts,
        retry_seconds=w.handoff_webhook_retry_seconds,
        timeout_seconds=w.handoff_webhook_timeout_seconds,
    )
    events = HandoffEvents(
        queue,
        store,
        include_text=w.handoff_webhook_include_text,
        workspace_url=workspace_url_from(AppHomeState(redis)),
        wake=delivery.wake,
    )
    return delivery, events


def _digest(
    s: Settings, redis: Redis, slack: AsyncWebClient, stats: ServiceStats, topics: SectionFinder, queue: OpenHandoffs
) -> WeeklyDigest | None:
    schedule = parse_weekly(s.service.weekly_digest)
    if schedule is None or not s.handoff.support_channel:
        return None
    return WeeklyDigest(
        OnceMarkers(redis),
        slack,
        queue=queue,
        channel=s.handoff.support_channel,
        schedule=schedule,
        targets=Targets.from_settings(s.service),
        stats=stats,
        clock=time.time,
        topic_title=topics.title,
    )
