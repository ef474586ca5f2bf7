"""Sarah's agent surface: suggested prompts when someone opens her Messages tab or an assistant thread.

Slack's agent messaging experience (the manifest's `agent_view`) shows conversations in the app's
Messages tab and announces it with `app_home_opened` where `tab == "messages"`; older workspaces on
the assistant experience send `assistant_thread_started` instead. Either way Sarah offers a few
prompts (SUGGESTED_PROMPTS, under SUGGESTED_PROMPTS_TITLE) so a customer can start with one tap.

The `app_home_opened` listener matches the Messages tab only: bolt-python runs only the first
listener whose matchers match, and the Home tab belongs to another listener. A refused call (a
missing `assistant:write` scope, a workspace without the feature) is logged and dropped, never
raised: Slack would retry the event, and the customer can still just type.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

THREAD_TITLE = "ZenNest support"  # the assistant thread's name in the customer's history


def register_assistant(app: AsyncApp, *, title: str, prompts: Sequence[str]) -> None:
    """Listen for the Messages tab and assistant threads opening, and offer `prompts` there."""
    suggestions = [{"title": prompt, "message": prompt} for prompt in prompts]

    async def is_messages_tab(event: dict[str, Any]) -> bool:
        return event.get("tab") == "messages"

    async def messages_tab_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        channel = event.get("channel")
        if not suggestions or not isinstance(channel, str) or not channel:
            return
        # the agent experience: no thread_ts (Slack silently ignores a call for an agent app that has one)
        await _call(client.assistant_threads_setSuggestedPrompts, channel_id=channel, title=title, prompts=suggestions)

    async def thread_started(event: dict[str, Any], client: AsyncWebClient) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not isinstance(channel, str) or not isinstance(thread_ts, str):
            return
        await _call(client.assistant_threads_setTitle, channel_id=channel, thread_ts=thread_ts, title=THREAD_TITLE)
        if suggestions:
            await _call(
                client.assistant_threads_setSuggestedPrompts,
                channel_id=channel,
                thread_ts=thread_ts,
                title=title,
                prompts=suggestions,
            )

    app.event("app_home_opened", matchers=[is_messages_tab])(messages_tab_opened)
    app.event("assistant_thread_started")(thread_started)


async def _call(method: Any, **arguments: Any) -> None:
    try:
        await method(**arguments)
    except SlackApiError as error:
        log.warning("Slack refused %s: %s", method.__name__, error.response.get("error", "unknown error"))
