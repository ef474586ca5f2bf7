"""Building Sarah's parts is pure wiring: every part comes from the settings, nothing touches the network.

`build_parts` runs here outside any event loop, so a task it spawned would raise, and against a Slack
client that records every call and a Redis that records every command, so a call it made is seen.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.metrics import Metrics
from bot.ops.observers import HandoffWatch
from bot.ops.tracing import NO_TRACING
from bot.parts import Parts, build_parts
from bot.slack.outbox import SlackOutbox
from config import Settings, SlackMode, load_settings
from handlers.delivery import Texts
from handlers.model import Conversation, Reply
from handlers.outbox import Outbox
from handlers.who_moves import nobody_is_support

SLACK = {"slack_bot_token": "xoxb-test-token", "slack_signing_secret": "s3cret"}
TEXTS = {"text_thinking": "_One moment…_", "text_apology": "Sorry, something broke on our side."}


class RecordingSlack(AsyncWebClient):
    """Every Web API method goes through `api_call`: record it instead of sending it."""

    def __init__(self) -> None:
        super().__init__(token="xoxb-test-token", base_url="http://127.0.0.1:9/api/")
        self.calls: list[str] = []

    async def api_call(self, api_method: str, **kwargs: Any) -> Any:
        self.calls.append(api_method)
        raise AssertionError(f"building the parts called Slack's {api_method}")


class RecordingRedis(FakeAsyncRedis):
    def __init__(self) -> None:
        super().__init__()
        self.commands: list[object] = []

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        self.commands.append(args[0])
        return await super().execute_command(*args, **kwargs)


class SilentModel:
    name = "silent"

    async def reply(self, conversation: Conversation) -> Reply:
        raise AssertionError("building the parts asked the model")


def build(settings: Settings, outbox: Outbox | None = None) -> tuple[Parts, RecordingSlack, RecordingRedis]:
    slack, redis = RecordingSlack(), RecordingRedis()
    parts = build_parts(
        settings, redis=redis, slack=slack, model=SilentModel(), metrics=Metrics(), tracing=NO_TRACING, outbox=outbox
    )
    return parts, slack, redis


def test_every_part_is_built_from_the_settings_without_a_call_to_slack_or_redis() -> None:
    settings = load_settings(
        None,
        slack=SLACK,
        texts=TEXTS,
        handoff={"support_channel": "C0SUPPORT"},
        service={"weekly_digest": "mon 09:00"},
        webhook={"handoff_webhook_url": "https://tickets.example.com/sarah", "handoff_webhook_secret": "whsec"},
    )
    assert settings.slack.mode is SlackMode.HTTP

    parts, slack, redis = build(settings)

    assert slack.calls == [] and redis.commands == []
    assert [f.name for f in fields(parts) if getattr(parts, f.name) is None] == []
    assert parts.pipeline._texts == Texts.from_settings(settings.texts, settings.slack.max_message_chars)
    assert parts.pipeline._texts.apology == "Sorry, something broke on our side."
    assert isinstance(parts.outbox, SlackOutbox) and parts.outbox._thinking_text == "_One moment…_"
    assert parts.pipeline._is_support == parts.team.is_member  # agents in the thread are recognised
    assert parts.worker is not None and parts.health.worker == parts.worker.liveness.report
    assert len(parts.health.refreshers) == 2  # the stream's and the hand-off queue's gauges
    assert parts.health.loops == [] and not parts.health.needs_identity  # the runtime's, once started
    watch = parts.store._hooks
    assert isinstance(watch, HandoffWatch) and parts.ownership._hooks is watch
    assert watch._refreshes == (parts.app_home.refresh,)  # App Home follows hand-offs


@pytest.mark.parametrize("role", ["ingress", "worker"])
def test_only_a_process_that_works_has_a_worker(role: str) -> None:
    settings = load_settings(None, slack=SLACK, worker={"sarah_role": role}, handoff={"support_channel": "C0SUPPORT"})
    parts, _, _ = build(settings)
    assert (parts.worker is not None) is (role == "worker")
    assert (parts.health.worker is not None) is (role == "worker")
    assert parts.digest is None  # the weekly digest is off unless WEEKLY_DIGEST is set
    assert parts.webhooks is None  # and nothing is sent without HANDOFF_WEBHOOK_URL


def test_the_local_chat_has_no_support_team_and_prints_instead_of_posting() -> None:
    settings = load_settings(None, texts=TEXTS)
    assert settings.slack.mode is SlackMode.LOCAL

    class Printed:
        """Stands in for the terminal's outbox: only its identity matters here."""

    outbox: Any = Printed()
    parts, slack, redis = build(settings, outbox=outbox)

    assert slack.calls == [] and redis.commands == []
    assert parts.outbox is outbox and parts.pipeline._outbox is outbox and parts.handoff._outbox is outbox
    assert parts.pipeline._is_support is nobody_is_support
    assert parts.pipeline._thread_reader is None and parts.pipeline._streams is None
    watch = parts.store._hooks
    assert isinstance(watch, HandoffWatch)
    assert watch._refreshes == ()  # no App Home to publish without Slack
