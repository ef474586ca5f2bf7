"""The pipeline's `Outbox` in Slack: answers in the customer's thread, cards in the support channel.

Every text goes out through `bot.slack.text` (answers via `bot.slack.markdown`, cards and lines in a
card's thread via `bot.slack.cards`): no method takes mrkdwn, and this module never puts anyone's words,
nor its own, in a message unescaped.

Each message of an answer carries Slack message metadata (`event_type` sarah_reply, the pass's tag
and the part number), so a pass that died between posting and recording can find its own messages
again with conversations.replies (see `handlers/outbox.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.cards import (
    asked_again_line,
    card_message,
    customer_line,
    feedback_actions,
    native_feedback,
    reminder_text,
)
from bot.slack.markdown import markdown_message, safe_pieces
from bot.slack.stream import SlackStreams
from bot.slack.text import (
    NO_LINKS,
    LinkPolicy,
    people_mrkdwn,
    plain_mrkdwn,
    plain_name,
    sarah_mrkdwn,
    sarah_note,
    usergroup_mention,
)
from handlers.messages import ThreadRef
from handlers.outbox import AnswerStream, Card, CardRef, EarlierPosts, PartsRecorder, PostsUnknown

log = logging.getLogger(__name__)

_GONE = ("message_not_found", "cant_update_message", "edit_window_closed")
REPLY_EVENT = "sarah_reply"
# conversations.replies is limited to 1 call a minute and 15 messages a call for apps outside the
# Marketplace (since 2025-05-29): it is called only after a pass died, from the time its answer began.
_REPLY_PAGE = 15
_MAX_REPLY_PAGES = 3
_CLOCK_SLACK_SECONDS = 60  # `oldest` goes this far before the tag was recorded (clock differences)
_STATUS_REFUSED_SECONDS = 600  # a refused loading status (scope, client) is not asked again for this long
# The loading status is a courtesy: when Slack rate-limits it (slack_sdk then waits Retry-After) or is
# slow, the answer must not wait for it. Past this the status is skipped for this answer.
STATUS_WAIT_SECONDS = 2.0
NAME_CACHE_SECONDS = 15 * 60  # an agent's display name is looked up again after this long


class SlackOutbox:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        thinking_text: str,
        support_channel: str | None,
        links: LinkPolicy = NO_LINKS,
        status_text: str = "",
        loading_messages: Sequence[str] = (),
        streams: SlackStreams | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._clock = clock
        self._links = links
        self._thinking_text = thinking_text
        self._support_channel = support_channel
        # a small per-process cache of agents' display names, each kept NAME_CACHE_SECONDS (people rename)
        self._names: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._status_text = status_text
        self._loading_messages = list(loading_messages)[:10]
        self._status_refused_until = 0.0
        self._streams = streams
        self.native_feedback = True  # Slack's feedback_buttons; False once Slack refused them (invalid_blocks)
        if streams is not None:
            streams.native_feedback = lambda: self.native_feedback

    async def thinking(self, thread: ThreadRef, *, tag: str = "") -> str | None:
        """Slack's native loading status when it is accepted (nothing to replace: None), else the
        "typing…" placeholder message."""
        if self._status_text and time.monotonic() >= self._status_refused_until:
            try:
                await asyncio.wait_for(
                    self._client.assistant_threads_setStatus(
                        channel_id=thread.channel,
                        thread_ts=thread.thread_ts,
                        status=self._status_text,
                        loading_messages=self._loading_messages or None,
                    ),
                    STATUS_WAIT_SECONDS,
                )
                return None
            except TimeoutError:
                log.info("the loading status was skipped: Slack did not set it within %.0f s", STATUS_WAIT_SECONDS)
                return None
            except SlackApiError as error:
                log.info("the loading status was refused (%s); posting a placeholder", error.response.get("error"))
                self._status_refused_until = time.monotonic() + _STATUS_REFUSED_SECONDS
        response = await self._client.chat_postMessage(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=sarah_mrkdwn(self._thinking_text),
            **_metadata(tag, 0),
        )
        ts = response.get("ts")
        return ts if isinstance(ts, str) else None

    async def send(
        self,
        thread: ThreadRef,
        text: str,
        *,
        replace: str | None = None,
        feedback: bool = False,
        tag: str = "",
        parts: Sequence[str] = (),
        on_part: PartsRecorder | None = None,
    ) -> str | None:
        pieces = safe_pieces(text, self._links)
        earlier = list(parts)
        ids: list[str] = []  # the message id of each piece sent so far
        for index, piece in enumerate(pieces):
            message = {**markdown_message(piece, self._links), **_metadata(tag, index)}
            if feedback and index == len(pieces) - 1:
                message["blocks"].append(self._feedback_block(thread))
            previous = replace if index == 0 else (earlier[index - 1] if index - 1 < len(earlier) else None)
            if previous and await self._edit(thread.channel, previous, message):
                ids.append(previous)
                continue
            response = await self._feedback_fallback(
                message,
                lambda m: self._client.chat_postMessage(channel=thread.channel, thread_ts=thread.thread_ts, **m),
            )
            ids.append(str(response.get("ts") or ""))
            if on_part is not None and index < len(pieces) - 1:  # the last: the caller's commit records it
                await on_part(ids)
        for surplus in earlier[len(pieces) - 1 :]:
            await self.withdraw(thread, surplus)  # an earlier try's answer had more pieces
        if on_part is not None and len(earlier) >= len(pieces):
            await on_part(ids)
        return ids[0] if ids and ids[0] else None

    def _feedback_block(self, thread: ThreadRef) -> dict[str, Any]:
        return native_feedback(thread.key) if self.native_feedback else feedback_actions(thread.key)

    async def _edit(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        return bool(await self._feedback_fallback(message, lambda m: self._update(channel, ts, m)))

    async def _feedback_fallback(
        self, message: dict[str, Any], call: Callable[[dict[str, Any]], Awaitable[Any]]
    ) -> Any:
        """`call(message)`; where Slack refuses the native feedback_buttons (invalid_blocks), again
        with the older Helped / Didn't help buttons, and those from then on."""
        try:
            return await call(message)
        except SlackApiError as error:
            native = [b for b in message.get("blocks", []) if b.get("type") == "context_actions"]
            if error.response.get("error") != "invalid_blocks" or not native:
                raise
            log.warning("Slack refused feedback_buttons; using the Helped / Didn't help buttons")
            self.native_feedback = False
            blocks = [b for b in message["blocks"] if b.get("type") != "context_actions"]
            value = native[0]["elements"][0]["positive_button"]["value"]
            key = value.partition(":")[2]
            return await call({**message, "blocks": [*blocks, feedback_actions(key)]})

    async def start_stream(self, thread: ThreadRef, *, recipient_user: str, recipient_team: str) -> AnswerStream | None:
        if self._streams is None:
            return None
        return await self._streams.start_stream(thread, recipient_user=recipient_user, recipient_team=recipient_team)

    async def may_stream(self, thread: ThreadRef) -> bool:
        return self._streams is not None and await self._streams.may_stream(thread)

    async def end_stream(self, thread: ThreadRef, ts: str) -> None:
        if self._streams is not None:
            await self._streams.end_stream(thread, ts)

    async def find_posts(self, thread: ThreadRef, tag: str, *, since: float = 0.0) -> EarlierPosts:
        found: dict[int, str] = {}
        stream = ""
        cursor = ""
        oldest = f"{since - _CLOCK_SLACK_SECONDS:.6f}" if since else None
        try:
            for _ in range(_MAX_REPLY_PAGES):
                response = await self._client.conversations_replies(
                    channel=thread.channel,
                    ts=thread.thread_ts,
                    include_all_metadata=True,
                    limit=_REPLY_PAGE,
                    cursor=cursor or None,
                    oldest=oldest,
                )
                for message in response.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == REPLY_EVENT and payload.get("tag") == tag:
                        found[int(payload.get("part", 0))] = str(message["ts"])
                    elif message.get("bot_id") and not metadata and not str(message.get("text") or "").strip():
                        # every message Sarah posts has text but a stream nothing was appended to yet;
                        # it is tagged when it stops: this one was started and never recorded
                        stream = str(message["ts"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
                if not cursor:
                    break
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("could not look for an earlier try's messages in %s (%s)", thread.key, code)
            raise PostsUnknown(f"conversations.replies refused ({code})") from None
        return EarlierPosts(found, stream)

    async def withdraw(self, thread: ThreadRef, handle: str) -> None:
        try:
            await self._client.chat_delete(channel=thread.channel, ts=handle)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise

    async def post_card(self, card: Card) -> CardRef | None:
        if not self._support_channel:
            log.error("no SUPPORT_CHANNEL: the hand-off card for %s was not posted", card.thread.key)
            return None
        response = await self._client.chat_postMessage(
            channel=self._support_channel, **card_message(card, permalink=await self._permalink(card))
        )
        return CardRef(self._support_channel, str(response["ts"]))

    async def update_card(self, ref: CardRef, card: Card) -> None:
        await self._update(ref.channel, ref.ts, card_message(card, permalink=await self._permalink(card)))

    async def remind(self, ref: CardRef, card: Card) -> None:
        await self._client.chat_postMessage(
            channel=ref.channel, thread_ts=ref.ts, reply_broadcast=True, text=sarah_mrkdwn(reminder_text(card))
        )

    async def support_note(self, ref: CardRef, text: str) -> None:
        await self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=sarah_note(text))

    async def alert_team(self, ref: CardRef, text: str, *, usergroup: str = "") -> None:
        mention = usergroup_mention(usergroup) if usergroup else ""
        line = f"{mention} {sarah_note(text)}" if mention else sarah_note(text)
        await self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=line)

    async def asked_again(self, ref: CardRef, customer: str, latest: str) -> None:
        await self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, **asked_again_line(customer, latest))

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=_agent_line(agent, text)
        )

    async def customer_said(self, ref: CardRef, customer: str, text: str, *, has_files: bool = False) -> None:
        await self._client.chat_postMessage(
            channel=ref.channel, thread_ts=ref.ts, **customer_line(text, has_files=has_files)
        )

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        line = _agent_line(await self.display_name(agent), text)
        await self._client.chat_postMessage(channel=thread.channel, thread_ts=thread.thread_ts, text=line)
        await self._ephemeral(ref, agent, "_Sent to the customer:_\n" + line)

    async def tell_agent(self, ref: CardRef, agent: str, text: str) -> None:
        await self._ephemeral(ref, agent, plain_mrkdwn(text))

    async def _ephemeral(self, ref: CardRef, agent: str, mrkdwn: str) -> None:
        """`mrkdwn`, already made safe by `bot.slack.text`, for `agent`'s eyes only."""
        try:
            await self._client.chat_postEphemeral(channel=ref.channel, user=agent, thread_ts=ref.ts, text=mrkdwn)
        except SlackApiError as error:  # e.g. user_not_in_channel: the note is lost, the relay is not
            log.warning("could not show a note to a user in %s: %s", ref.channel, error.response.get("error"))

    async def display_name(self, user: str) -> str:
        if not user:
            return "The customer"
        now = self._clock()
        cached = self._names.get(user)
        if cached is not None and now - cached[1] < NAME_CACHE_SECONDS:
            return cached[0]
        try:
            profile = (await self._client.users_info(user=user)).get("user") or {}
        except SlackApiError:
            profile = {}
        name = profile.get("real_name") or profile.get("profile", {}).get("display_name") or profile.get("name")
        self._names.pop(user, None)
        self._names[user] = (plain_name(str(name or "A ZenNest colleague")), now)
        if len(self._names) > 1_000:
            self._names.popitem(last=False)
        return self._names[user][0]

    async def _update(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        """Edit a message in place; False when it is gone (someone deleted it), so the caller posts."""
        try:
            await self._client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            if error.response.get("error") in _GONE:
                log.info("message %s in %s is gone; posting instead", ts, channel)
                return False
            raise
        return True

    async def _permalink(self, card: Card) -> str | None:
        try:
            response = await self._client.chat_getPermalink(
                channel=card.thread.channel, message_ts=card.thread.thread_ts
            )
        except SlackApiError:
            return None
        link = response.get("permalink")
        return link if isinstance(link, str) else None


def _agent_line(agent: str, text: str) -> str:
    """What the customer reads: the agent's name (escaped) and their words, nothing in them live."""
    return f"*{plain_mrkdwn(plain_name(agent))}* (ZenNest support): {people_mrkdwn(text)}"


def _metadata(tag: str, part: int) -> dict[str, Any]:
    """chat.postMessage / chat.update arguments that tag a message as part `part` of an answer."""
    if not tag:
        return {}
    return {"metadata": {"event_type": REPLY_EVENT, "event_payload": {"tag": tag, "part": part}}}
