"""A worker that dies right after ANY Slack call of a pass still leaves the customer one answer.

`CALLS` lists every Slack call a pass makes, in order, for each way an answer is shown. The matrix
kills the pass right after Slack accepted each of them (the call's caller raises: Slack has what
it sent, Redis has nothing after it), crossed with a customer who writes again at that moment and
with the recovery lookup (conversations.replies) refused for a while. The pass that takes the thread
over must leave exactly one visible answer that answers every message: the one Slack already had,
edited, never a second one, an empty stream or a "typing…" left behind.

The rows of one test run side by side, each in a DM of its own, so the whole matrix stays quick.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages import ThreadRef
from handlers.store.keys import thread_keys
from handlers.store.stream_budget import StreamBudget
from sarah_testing.openai_chat import FakeOpenAI, long_steps_responder
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import SlackSender, dm, new_ts
from tests.conftest import StartSarah


class Crash(RuntimeError):
    """The process "dies" here: nothing after this line of the pass runs."""


@dataclass(frozen=True)
class Shape:
    """One way an answer reaches Slack, and how Sarah is set up for it."""

    stream: bool  # STREAM_ANSWERS
    status_refused: bool = False  # Slack refuses the loading status: a "typing…" message instead


SHAPES = {
    "whole": Shape(stream=False),
    "typing-placeholder": Shape(stream=False, status_refused=True),
    "streamed": Shape(stream=True),
}

# Every Slack call a pass makes to answer one message, in order (the test below checks that this is
# all of them). The matrix crashes a pass right after each one.
CALLS = {
    "whole": ["assistant.threads.setStatus", "chat.postMessage"],
    "typing-placeholder": ["chat.postMessage", "chat.update"],  # the placeholder, then the answer over it
    "streamed": [
        "assistant.threads.setStatus",
        "chat.startStream",
        "chat.appendStream",
        "chat.appendStream",
        "chat.stopStream",
    ],
}

FIRST = "my hub is offline"
FOLLOW_UP = "the app says offline too"
TYPING = "Sarah is typing"


@dataclass
class Row:
    """One conversation of the matrix: its own customer and DM, and the call its first pass dies after."""

    name: str
    channel: str
    user: str
    crash_after: int | None  # index in CALLS[shape]; None: the pass runs through (the calls are recorded)
    follow_up: bool
    messages: list[str]  # the ts of every message the customer wrote, the first one first


def matrix(shape: str) -> tuple[list[Row], Row]:
    """A row for each call of the pass, alone and with a follow-up; and a row where nothing crashes."""
    rows: list[Row] = []
    for follow_up in (False, True):
        for step, call in enumerate(CALLS[shape]):
            name = f"after call {step + 1} ({call}){' + follow-up' if follow_up else ''}"
            rows.append(Row(name, f"D0ROW{len(rows)}", f"UROW{len(rows)}", step, follow_up, []))
    return rows, Row("no crash", f"D0ROW{len(rows)}", f"UROW{len(rows)}", None, False, [])


class SlackCalls:
    """Every call Slack accepted, per channel; kills a row's first pass right after its chosen one.

    Wraps `AsyncWebClient.api_call`, which every Web API method of every client goes through: it
    returns only when Slack answered ok (a refused call raises SlackApiError and is no crash point).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rows: list[Row], at_crash: Callable[[Row], Awaitable[None]]):
        self.accepted: dict[str, list[str]] = defaultdict(list)
        self.crashed: list[str] = []
        by_channel = {row.channel: row for row in rows}
        api_call = AsyncWebClient.api_call

        async def call_then_maybe_crash(client: AsyncWebClient, api_method: str, **kwargs: Any) -> Any:
            response = await api_call(client, api_method, **kwargs)
            channel = _channel_of(kwargs)
            row = by_channel.get(channel)
            if row is None or row.name in self.crashed:
                return response
            self.accepted[channel].append(api_method)
            if row.crash_after is not None and len(self.accepted[channel]) == row.crash_after + 1:
                self.crashed.append(row.name)
                await at_crash(row)
                raise Crash(f"right after {api_method} in {row.name}")
            return response

        monkeypatch.setattr(AsyncWebClient, "api_call", call_then_maybe_crash)


def _channel_of(kwargs: dict[str, Any]) -> str:
    for where in ("json", "data", "params"):
        values = kwargs.get(where) or {}
        if isinstance(values, dict) and (values.get("channel") or values.get("channel_id")):
            return str(values.get("channel") or values.get("channel_id"))
    return ""


def problems(fake_slack: FakeSlack, row: Row, texts: list[str]) -> list[str]:
    """What is wrong with what the row's customer sees: [] when it is exactly one full answer."""
    shown: list[Posted] = [m for m in fake_slack.messages if m.channel == row.channel and not m.deleted]
    found = []
    if len(shown) != 1:
        found.append(f"{len(shown)} visible messages: {[m.body[-80:] for m in shown]}")
    for message in shown:
        if not message.body.strip():
            found.append("an empty message")
        if TYPING in message.body:
            found.append("a typing… placeholder left")
        if message.streaming:
            found.append("a stream never stopped")
    if shown and not all(text in shown[-1].body for text in texts):
        found.append(f"the answer does not answer {texts}: {shown[-1].body[-120:]!r}")
    return found


async def always(*_: Any) -> bool:
    return True


async def unanswered(redis: Redis, rows: list[Row]) -> list[str]:
    """The rows with a message not recorded as answered in Redis."""
    return [
        row.name
        for row in rows
        if not all(await redis.smismember(thread_keys(ThreadRef(row.channel, row.messages[0])).answered, row.messages))
    ]


async def all_answered(redis: Redis, rows: list[Row], within: float) -> None:
    """Wait until every message of every row is recorded as answered, for about `within` seconds at most."""
    waiting: list[str] = []
    for _ in range(int(within / 0.1)):
        if not (waiting := await unanswered(redis, rows)):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"not answered within {within} s: {waiting}")


@pytest.mark.parametrize("refused", [False, True], ids=["lookup-answers", "lookup-refused-a-while"])
@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_crash_after_any_slack_call_leaves_one_full_answer(
    start_sarah: StartSarah,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
    shape: str,
    refused: bool,
) -> None:
    fake_openai.responder = long_steps_responder
    # The rows stream side by side in one workspace: its streaming limits are not what is tested here.
    fake_slack.tier2_per_minute = 1_000
    monkeypatch.setattr(StreamBudget, "left", always)
    monkeypatch.setattr(StreamBudget, "take", always)
    if SHAPES[shape].status_refused:
        fake_slack.refuse_status = "missing_scope"
    if refused:
        fake_slack.failing.add("conversations.replies")  # as Slack's 1-a-minute limit refuses it
    rows, control = matrix(shape)
    senders: list[SlackSender] = []

    async def customer_writes_again(row: Row) -> None:  # they go on at the top level of the DM
        if row.follow_up:
            row.messages.append(new_ts())
            event = dm(FOLLOW_UP, user=row.user, channel=row.channel, ts=row.messages[-1])
            assert await senders[0].event(event) == 200

    calls = SlackCalls(monkeypatch, [*rows, control], customer_writes_again)
    _, slack = await start_sarah(
        slack={"stream_answers": SHAPES[shape].stream},
        worker={"thread_lease_seconds": 2, "reclaim_idle_seconds": 5},  # a refused lookup waits for XAUTOCLAIM
    )
    senders.append(slack)
    for row in [*rows, control]:
        row.messages.append(new_ts())
        assert await slack.event(dm(FIRST, user=row.user, channel=row.channel, ts=row.messages[0])) == 200

    if refused:
        await fake_slack.wait_for(
            lambda: {p["channel"] for p in fake_slack.calls_to("conversations.replies")} >= {r.channel for r in rows},
            within=10,
        )
        fake_slack.failing.discard("conversations.replies")  # the limit's minute is over
    await all_answered(redis, [*rows, control], within=25)

    assert calls.accepted[control.channel] == CALLS[shape]  # the matrix crashes after every call of a pass
    assert sorted(calls.crashed) == sorted(row.name for row in rows)
    wrong = [
        f"{row.name}: {'; '.join(found)}"
        for row in [*rows, control]
        if (found := problems(fake_slack, row, [FIRST, *([FOLLOW_UP] if row.follow_up else [])]))
    ]
    assert not wrong, "\n".join(wrong)
