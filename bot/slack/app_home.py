"""Sarah's App Home tab: the support team's queue of open hand-offs; for everyone else, what Sarah does.

Slack sends `app_home_opened` when someone opens the tab; Sarah answers with `views.publish`. Who
opened it recently is kept in Redis, so when a hand-off changes hands (from any process) the open
tabs of support members are published again: the queue stays current without anyone reloading.
Nothing a customer wrote appears here: reason, customer (a mention Slack renders as their name),
agent, times and a link to the card.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.cards import REASONS, slack_file_link
from bot.slack.text import is_user_id
from handlers.service_levels import Target, Targets, short_duration
from handlers.store.app_home_state import AppHomeState
from handlers.store.open_handoffs import OpenHandoff, OpenHandoffs
from handlers.store.ownership import Owner

log = logging.getLogger(__name__)

VIEWER_SECONDS = 8 * 3600  # a tab opened within a working day is kept current
MAX_LISTED = 40  # two blocks each, well under Slack's 100 blocks per view
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")
VISITOR_TEXT = (
    "*Hi, I'm Sarah, ZenNest's support assistant.*\n"
    "Send me a direct message, or mention me in a channel, with a question about your ZenNest home: "
    "devices, the app, automations, billing. I answer in a thread and remember the conversation."
)
REACH_A_PERSON = (
    "*Want a person?* Say so in the thread (\u201cI'd like to talk to a human\u201d) or type `/sarah human`: "
    "I hand the conversation to our support team and they reply in the same thread. "
    "`/sarah reset` starts a fresh conversation."
)


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def _person(user: str) -> str:
    return f"<@{user}>" if is_user_id(user) else "unknown"


def _where(entry: OpenHandoff) -> str:
    if entry.thread.is_dm:
        return "a DM"
    return f"<#{entry.thread.channel}>" if _CHANNEL_ID.match(entry.thread.channel) else "a channel"


def card_link(workspace_url: str, channel: str, ts: str) -> str | None:
    """A message's permalink without an API call: <workspace>/archives/<channel>/p<ts without dot>;
    None unless the workspace is a Slack https address and the channel and ts look like Slack's."""
    if not (_CHANNEL_ID.match(channel) and _TS.match(ts) and slack_file_link(workspace_url)):
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def time_left(entry: OpenHandoff, targets: Targets, now: float) -> float:
    """Business seconds before the hand-off's running target is missed (negative: missed)."""
    return targets.left(targets.pending(entry.first_response_at), entry.escalated_at, now)


def _target_field(entry: OpenHandoff, targets: Targets, now: float) -> str:
    target = targets.pending(entry.first_response_at)
    name = "first answer" if target is Target.FIRST_RESPONSE else "resolution"
    left = time_left(entry, targets, now)
    if left < 0:
        return f"*Time left*\n:rotating_light: {name} target missed by {short_duration(-left)}"
    return f"*Time left*\n{short_duration(left)} to {name}"


def queue_view(
    entries: list[OpenHandoff], now: float, workspace_url: str = "", targets: Targets | None = None
) -> dict[str, Any]:
    """The queue; with `targets`, ordered by business time left (missed ones first) and showing it."""
    if targets is not None:
        entries = sorted(entries, key=lambda e: time_left(e, targets, now))
    waiting = sum(1 for e in entries if e.owner is Owner.WAITING)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Support queue"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{len(entries)} open hand-off(s), {waiting} waiting for someone. "
                    f"Updated {time.strftime('%H:%M UTC', time.gmtime(now))}.",
                }
            ],
        },
        {"type": "divider"},
    ]
    if not entries:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "Nothing waiting. :tada:"}})
    for entry in entries[:MAX_LISTED]:
        if entry.owner is Owner.WAITING:
            status = f":hourglass: *Waiting* for {_ago(now - entry.escalated_at)}"
        else:
            status = f":raising_hand: *Claimed* by {_person(entry.owner_by)} {_ago(now - entry.owner_at)} ago"
        section: dict[str, Any] = {
            "type": "section",
            "text": {"type": "mrkdwn", "text": status},
            "fields": [
                {"type": "mrkdwn", "text": f"*Reason*\n{REASONS.get(entry.reason, 'Other')}"},
                {"type": "mrkdwn", "text": f"*Customer*\n{_person(entry.customer)}"},
                {"type": "mrkdwn", "text": f"*Handed off*\n{_ago(now - entry.escalated_at)} ago"},
                {"type": "mrkdwn", "text": f"*Where*\n{_where(entry)}"},
            ],
        }
        if targets is not None:
            section["fields"].append({"type": "mrkdwn", "text": _target_field(entry, targets, now)})
        link = card_link(workspace_url, entry.card_channel, entry.card_ts)
        if link:
            section["accessory"] = {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open card"},
                "url": link,
                "action_id": f"open_card_{len(blocks)}",
            }
        blocks += [section, {"type": "divider"}]
    if len(entries) > MAX_LISTED:
        more = len(entries) - MAX_LISTED
        note = {"type": "mrkdwn", "text": f"…and {more} more in the support channel."}
        blocks.append({"type": "context", "elements": [note]})
    return {"type": "home", "blocks": blocks}


def visitor_view() -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": VISITOR_TEXT}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": REACH_A_PERSON}},
        ],
    }


class AppHome:
    def __init__(
        self,
        client: AsyncWebClient,
        state: AppHomeState,
        queue: OpenHandoffs,
        is_support: Callable[[str], Awaitable[bool]],
        *,
        workspace_url: str = "",  # learnt from Redis when empty (a worker-only process)
        clock: Callable[[], float] = time.time,
        targets: Targets | None = None,
    ) -> None:
        self._targets = targets  # the queue shows each hand-off's time left, missed ones first
        self._client = client
        self._state = state
        self._queue = queue
        self._is_support = is_support
        self._workspace_url = workspace_url
        self._clock = clock

    async def remember_workspace(self, url: str) -> None:
        """The ingress learnt the workspace's URL (auth.test): card links in every process use it."""
        self._workspace_url = url
        await self._state.remember_workspace_url(url)  # written again at every start

    async def _workspace(self) -> str:
        if not self._workspace_url:
            self._workspace_url = await self._state.workspace_url()
        return self._workspace_url

    async def opened(self, user: str) -> None:
        """Someone opened the tab: publish what they may see, and keep it current for a while."""
        await self._state.viewer_opened(user, self._clock(), keep_seconds=VIEWER_SECONDS)
        await self._publish(user, await self._view_for(user))

    async def refresh(self) -> None:
        """A hand-off changed hands: publish the queue again to support members with the tab open."""
        now = self._clock()
        viewers = await self._state.viewers_since(now - VIEWER_SECONDS)
        members = [u for u in viewers if await self._is_support(u)]
        if not members:
            return
        view = queue_view(await self._queue.entries(), now, await self._workspace(), self._targets)
        for user in members:
            await self._publish(user, view)

    async def _view_for(self, user: str) -> dict[str, Any]:
        if await self._is_support(user):
            return queue_view(await self._queue.entries(), self._clock(), await self._workspace(), self._targets)
        return visitor_view()

    async def _publish(self, user: str, view: dict[str, Any]) -> None:
        try:
            await self._client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("could not publish App Home: %s", error.response.get("error"))


def register_app_home(app: AsyncApp, home: AppHome) -> None:
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            await home.opened(str(event["user"]))

    async def card_link_pressed(ack: Any) -> None:
        await ack()  # a link button: Slack opens the card itself, but still tells the app

    app.event("app_home_opened")(home_opened)
    app.action(re.compile(r"^open_card_"))(card_link_pressed)
