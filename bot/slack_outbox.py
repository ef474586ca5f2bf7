"""The pipeline's `Outbox` in Slack: a "typing…" placeholder, then the answer in its place."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_format import markdown_message, split_for_slack
from handlers.messages import ThreadRef

log = logging.getLogger(__name__)


class SlackOutbox:
    def __init__(self, client: AsyncWebClient, *, thinking_text: str) -> None:
        self._client = client
        self._thinking_text = thinking_text

    async def thinking(self, thread: ThreadRef) -> str | None:
        response = await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=self._thinking_text
        )
        ts = response.get("ts")
        return ts if isinstance(ts, str) else None

    async def send(self, thread: ThreadRef, text: str, *, replace: str | None = None) -> None:
        pieces = split_for_slack(text)
        first, rest = pieces[0], pieces[1:]
        if replace and await self._update(thread, replace, first):
            pass
        else:
            await self._post(thread, first)
        for piece in rest:
            await self._post(thread, piece)

    async def withdraw(self, thread: ThreadRef, handle: str) -> None:
        try:
            await self._client.chat_delete(channel=thread.channel, ts=handle)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise

    async def _post(self, thread: ThreadRef, text: str) -> None:
        await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, **markdown_message(text)
        )

    async def _update(self, thread: ThreadRef, ts: str, text: str) -> bool:
        """Replace the placeholder; False when it is gone (deleted by someone), so we post instead."""
        try:
            await self._client.chat_update(channel=thread.channel, ts=ts, **markdown_message(text))
        except SlackApiError as error:
            if error.response.get("error") in ("message_not_found", "cant_update_message", "edit_window_closed"):
                log.info("placeholder in %s is gone; posting the answer instead", thread.key)
                return False
            raise
        return True
