"""Sarah's answers streamed into Slack: chat.startStream → chat.appendStream → chat.stopStream.

Why not slack-sdk's `chat_stream()` helper: it calls chat.startStream only with the first buffered
text, so the message's ts is unknown until text is already visible. Sarah must record that ts in
Redis before anything is shown (one visible answer across a crash), so the stream is started empty.

What is shown is always a complete, safe rendering: each append is the new end of
`model_markdown(text so far)` (bot/slack/text.py), sent only when the rendering of the longer text
still begins with everything sent before. A `<…>` token, a link or an escape sequence cut at the
edge therefore never goes out half-made: it is held until it renders the same way whole. If the
streamed text and the full answer's rendering differ in the end (or a limit was hit), the stream is
stopped and the message replaced by the one-message path (chat.update).

Fallbacks: no budget left (handlers/store/stream_budget.py), a 429 (no retry: the budget is spent for the
Retry-After), any refusal of chat.startStream → one message. A refused append
(message_not_in_streaming_state, msg_too_long, 429 …), a stream older than `max_age` or a text
near the 12,000-character cap → stop appending; the finished answer replaces the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.cards import feedback_actions, native_feedback
from bot.slack.markdown import MARKDOWN_BLOCK_LIMIT
from bot.slack.text import NO_LINKS, LinkPolicy, model_markdown
from handlers.messages import ThreadRef
from handlers.outbox import AnswerStream
from handlers.store.stream_budget import StreamBudget

log = logging.getLogger(__name__)

STREAM_MAX_AGE_SECONDS = 240.0  # Slack ends a stream left alone for about 5 minutes
STREAM_TEXT_LIMIT = MARKDOWN_BLOCK_LIMIT - 500  # chat.*Stream hold 12,000 characters; keep a margin
REPLY_EVENT = "sarah_reply"


def stream_client(client: AsyncWebClient) -> AsyncWebClient:
    """The same connection and handlers (call counting, connection and 5xx retries) without the 429
    retries: a rate-limited stream falls back at once."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        session=client.session,
        retry_handlers=[h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)],
    )


class SlackStreams:
    """Opens streams where the budget allows; see the module docstring."""

    def __init__(
        self,
        client: AsyncWebClient,
        budget: StreamBudget,
        *,
        links: LinkPolicy = NO_LINKS,
        workspace: str = "",
        native_feedback: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = stream_client(client)
        self._budget = budget
        self._links = links
        self._workspace = workspace
        self.native_feedback = native_feedback  # set by SlackOutbox: False once Slack refused them
        self._clock = clock

    async def _team(self) -> str:
        """The workspace whose Tier 2 budget the streams spend (auth.test once per process)."""
        if not self._workspace:
            try:
                self._workspace = str((await self._client.auth_test()).get("team_id") or "default")
            except SlackApiError:
                return "default"
        return self._workspace

    async def may_stream(self, thread: ThreadRef) -> bool:
        return await self._budget.left(await self._team())

    async def start_stream(self, thread: ThreadRef, *, recipient_user: str, recipient_team: str) -> AnswerStream | None:
        team = await self._team()
        if not await self._budget.take(team):
            log.info("no streaming budget left this minute; answering in one message", extra={"thread_key": thread.key})
            return None
        try:
            # The recipient is required outside DMs; Slack's own samples pass it everywhere.
            response = await self._client.chat_startStream(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                recipient_user_id=recipient_user or None,
                recipient_team_id=(recipient_team or team) if recipient_user else None,
            )
        except SlackApiError as error:
            await self._refused(team, error, "chat.startStream")
            return None
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            return None
        return SlackAnswerStream(self, thread, ts, team)

    async def end_stream(self, thread: ThreadRef, ts: str) -> None:
        try:
            await self._client.chat_stopStream(channel=thread.channel, ts=ts)
        except SlackApiError as error:  # already stopped or expired: either way it can be edited now
            log.info("an earlier pass's stream could not be stopped (%s)", error.response.get("error"))

    async def _refused(self, team: str, error: SlackApiError, method: str) -> None:
        code = error.response.get("error")
        if error.response.status_code == 429:
            retry_after = float(error.response.headers.get("Retry-After", "") or 60)
            await self._budget.exhausted(team, retry_after)
        log.info("%s refused (%s); the answer goes out as one message", method, code)


class SlackAnswerStream:
    def __init__(self, streams: SlackStreams, thread: ThreadRef, ts: str, team: str) -> None:
        self.ts = ts
        self._streams = streams
        self._client = streams._client
        self._thread = thread
        self._team = team
        self._links = streams._links
        self._started = streams._clock()
        self._sent = ""  # the rendering shown so far
        self._usable = True
        self._stopped = False

    async def append(self, text_so_far: str) -> bool:
        if not self._usable:
            return False
        if self._streams._clock() - self._started > STREAM_MAX_AGE_SECONDS:
            return self._give_up("the stream is getting too old")
        target = model_markdown(text_so_far, self._links).rstrip()
        if len(target) > STREAM_TEXT_LIMIT:
            return self._give_up("the answer is near Slack's 12,000-character cap")
        if not target.startswith(self._sent) or len(target) == len(self._sent):
            return True  # hold until the longer text renders the same way as what is shown
        try:
            await self._client.chat_appendStream(
                channel=self._thread.channel, ts=self.ts, markdown_text=target[len(self._sent) :]
            )
        except SlackApiError as error:
            if error.response.status_code == 429:
                await self._streams._refused(self._team, error, "chat.appendStream")
            return self._give_up(f"chat.appendStream answered {error.response.get('error')}")
        self._sent = target
        return True

    async def finish(self, text: str, *, feedback: bool, tag: str) -> bool:
        final = model_markdown(text, self._links).rstrip()
        whole = self._usable and final.startswith(self._sent) and len(final) <= STREAM_TEXT_LIMIT
        if not whole:
            await self.stop()
            return False
        arguments: dict[str, Any] = {"channel": self._thread.channel, "ts": self.ts}
        if final[len(self._sent) :]:
            arguments["markdown_text"] = final[len(self._sent) :]
        if tag:
            arguments["metadata"] = {"event_type": REPLY_EVENT, "event_payload": {"tag": tag, "part": 0}}
        native = self._streams.native_feedback()
        choices = [native_feedback(self._thread.key)] if native else []
        for block in [*choices, feedback_actions(self._thread.key)]:
            if feedback:
                arguments["blocks"] = [block]
            try:
                await self._client.chat_stopStream(**arguments)
            except SlackApiError as error:
                if error.response.get("error") == "invalid_blocks" and feedback:
                    continue  # feedback_buttons not available here: the older buttons instead
                self._stopped = True
                log.info("chat.stopStream answered %s; replacing the message", error.response.get("error"))
                return False
            self._stopped = True
            return True
        await self.stop()  # neither kind of feedback button was accepted: the one-message path decides
        return False

    async def stop(self, closing: str = "") -> None:
        if self._stopped:
            return
        self._stopped = True
        arguments: dict[str, Any] = {"channel": self._thread.channel, "ts": self.ts}
        if closing and self._usable:
            arguments["markdown_text"] = "\n\n" + model_markdown(closing, self._links)
        try:
            await self._client.chat_stopStream(**arguments)
        except SlackApiError as error:
            log.info("chat.stopStream answered %s", error.response.get("error"))
            if closing and "markdown_text" in arguments:
                try:  # the stream ended on its own: add the closing line by editing the message
                    await self._client.chat_update(
                        channel=self._thread.channel,
                        ts=self.ts,
                        text=closing,
                        blocks=[{"type": "markdown", "text": self._sent + arguments["markdown_text"]}],
                    )
                except SlackApiError:
                    log.info("could not add the closing line to a stopped stream")

    def _give_up(self, why: str) -> bool:
        log.info("stopped streaming: %s; the finished answer replaces the message", why)
        self._usable = False
        return False
