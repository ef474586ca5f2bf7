"""Read a channel thread's earlier messages from Slack (`conversations.replies`) for handlers/history.py.

Since 2025-05-29 Slack answers apps outside the Marketplace at most once a minute with at most 15
messages, so one call is made, for the 15 oldest messages before the mention: the thread's opening
message and the first replies, which usually say what the thread is about. The prompt's token budget
then keeps the newest of them. Bots' messages are left out (they are not the people in the thread,
and another app's text is no context to trust); every text is cleaned and capped like a customer's.
A thread that cannot be read (rate limit, missing scope, deleted) gives no history and is logged:
Sarah answers from the mention alone.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.events import DEFAULT_MAX_MESSAGE_CHARS
from handlers.messages import ThreadRef
from handlers.store.values import StoredTurn
from handlers.text_clean import clean_and_cap

log = logging.getLogger(__name__)

PAGE_SIZE = 15  # the most Slack returns per call to apps outside the Marketplace
_PEOPLE_SUBTYPES = {None, "file_share", "thread_broadcast"}


class SlackThreadReader:
    def __init__(self, client: AsyncWebClient, *, max_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> None:
        self._client = client
        self._max_chars = max_chars

    async def earlier(self, thread: ThreadRef, *, before: str) -> list[StoredTurn]:
        try:
            response = await self._client.conversations_replies(
                channel=thread.channel, ts=thread.thread_ts, latest=before, inclusive=False, limit=PAGE_SIZE
            )
        except SlackApiError as error:
            log.warning(
                "could not read the thread Sarah was mentioned in (%s); answering from the mention alone",
                error.response.get("error", "unknown error"),
                extra={"thread_key": thread.key},
            )
            return []
        turns = []
        for message in response.get("messages") or []:
            ts, user, text = message.get("ts"), message.get("user"), message.get("text")
            if not isinstance(ts, str) or not isinstance(user, str) or not isinstance(text, str):
                continue
            if message.get("bot_id") or message.get("bot_profile") or message.get("subtype") not in _PEOPLE_SUBTYPES:
                continue
            if _order(ts) >= _order(before) or not text.strip():
                continue
            turns.append(StoredTurn("user", clean_and_cap(text, self._max_chars).text, ts=ts, user=user))
        log.info("read the thread before a first mention", extra={"thread_key": thread.key, "turns": len(turns)})
        return turns


def _order(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return (int(seconds), int(micros or 0)) if seconds.isdigit() and (micros.isdigit() or not micros) else (0, 0)
