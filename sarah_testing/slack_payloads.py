"""Signed Slack Events API payloads shaped like the real ones, and the client that sends them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from sarah_testing.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
_counter = itertools.count(1)
_earlier = itertools.count(1)


def new_ts() -> str:
    """A fresh ts for a message a person writes: even microseconds (the fake Slack stamps its own
    messages with odd ones, so the two can never collide, whatever ran before)."""
    return f"{int(time.time())}.{2 * next(_counter) % 1_000_000:06d}"


def earlier_ts() -> str:
    """A ts a minute ago: before the mention, and never one the fake gives Sarah's own messages."""
    return f"{int(time.time()) - 60}.{next(_earlier):06d}"


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "ASARAH",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def dm(
    text: str,
    *,
    user: str = "UCUSTOMER",
    channel: str = "D0CUSTOMER",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts or new_ts(),
        "team": TEAM_ID,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def mention(
    text: str,
    *,
    user: str = "UCUSTOMER",
    channel: str = "C0GENERAL",
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or new_ts(),
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def channel_message(
    text: str,
    *,
    thread_ts: str | None,
    user: str = "UCUSTOMER",
    channel: str = "C0GENERAL",
    ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel_type": "channel",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts or new_ts(),
        "team": TEAM_ID,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def sarahs_own(text: str, *, channel: str = "D0CUSTOMER") -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": text,
        "ts": new_ts(),
    }


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp or int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": "application/json"}


HOOKS = "https://hooks.slack.invalid"  # where the response_url of a payload points, unless a sender moves it


class SlackSender:
    """Posts payloads to Sarah's /slack/events the way Slack does. With `hooks` (FakeSlack.hooks_url)
    a command's response_url points at the fake Slack, which keeps what Sarah sends there."""

    def __init__(self, url: str, *, hooks: str | None = None) -> None:
        self.url = url
        self.hooks = hooks
        self._session = aiohttp.ClientSession()

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        secret: str = SIGNING_SECRET,
    ) -> int:
        return await self.payload(envelope(event, event_id), retry_num=retry_num, secret=secret)

    async def payload(
        self, payload: dict[str, Any], *, retry_num: int | None = None, secret: str = SIGNING_SECRET, form: bool = False
    ) -> int:
        if form:
            body = urlencode({"payload": json.dumps(payload)})
            headers = signed_headers(body, secret=secret)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(payload)
            headers = signed_headers(body, secret=secret)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self._session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def press(self, payload: dict[str, Any]) -> int:
        return await self.payload(payload, form=True)

    async def command(self, fields: dict[str, str]) -> tuple[int, str]:
        """Send a slash command; its status and acknowledgement (later answers: FakeSlack.answer_to)."""
        if self.hooks and fields.get("response_url", "").startswith(HOOKS):
            fields = {**fields, "response_url": self.hooks + fields["response_url"].removeprefix(HOOKS)}
        body = urlencode(fields)
        headers = signed_headers(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self._session.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        await self._session.close()


def button_press(action_id: str, value: str, *, user: str, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload, as Slack sends it when someone presses a button on `message`."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "ASARAH",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"trigger-{next(_counter)}",
        "team": {"id": TEAM_ID, "domain": "zennest"},
        "channel": {"id": channel, "name": "support"},
        "message": message,
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button", "action_ts": new_ts()}],
    }


def view_submission(view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> dict[str, Any]:
    """A view_submission payload: `user` submitted the modal `view` (as views.open got it) with `values`
    (block_id → action_id → {"type": …, "value": …})."""
    return {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "ASARAH",
        "token": "legacy-verification-token",
        "trigger_id": f"trigger-{next(_counter)}",
        "team": {"id": TEAM_ID, "domain": "zennest"},
        "view": {**view, "id": "V1", "state": {"values": values}},
    }


def slash_command(text: str, *, user: str = "UCUSTOMER", channel: str = "D0CUSTOMER") -> dict[str, str]:
    trigger = f"trigger-{next(_counter)}"
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "channel_id": channel,
        "user_id": user,
        "command": "/sarah",
        "text": text,
        "api_app_id": "ASARAH",
        "trigger_id": trigger,
        "response_url": f"{HOOKS}/commands/{trigger}",
    }
