"""The pipeline's `Outbox` in Slack: answers in the customer's thread, cards in the support channel.

Every text that someone other than Sarah's own settings wrote goes out through `bot.slack_text`
(answers via `bot.slack_format`, cards via `bot.cards`): this module never puts such text in a
message itself.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import card_message, customer_line, feedback_actions, reminder_text
from bot.slack_format import markdown_message, safe_pieces
from bot.slack_text import NO_LINKS, LinkPolicy, people_mrkdwn, plain_mrkdwn, plain_name
from handlers.messages import ThreadRef
from handlers.outbox import Card, CardRef

log = logging.getLogger(__name__)

_GONE = ("message_not_found", "cant_update_message", "edit_window_closed")


class SlackOutbox:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        thinking_text: str,
        support_channel: str | None,
        links: LinkPolicy = NO_LINKS,
    ) -> None:
        self._client = client
        self._links = links
        self._thinking_text = thinking_text
        self._support_channel = support_channel
        self._names: OrderedDict[str, str] = OrderedDict()  # a small per-process cache of display names

    async def thinking(self, thread: ThreadRef) -> str | None:
        response = await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=self._thinking_text
        )
        ts = response.get("ts")
        return ts if isinstance(ts, str) else None

    async def send(
        self, thread: ThreadRef, text: str, *, replace: str | None = None, feedback: bool = False
    ) -> str | None:
        pieces = safe_pieces(text, self._links)
        first_ts: str | None = None
        for index, piece in enumerate(pieces):
            message = markdown_message(piece, self._links)
            if feedback and index == len(pieces) - 1:
                message["blocks"].append(feedback_actions(thread.key))
            if index == 0 and replace and await self._update(thread.channel, replace, message):
                first_ts = replace
                continue
            response = await self._client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.thread_ts, **message
            )
            first_ts = first_ts or response.get("ts")
        return first_ts

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
            channel=ref.channel, thread_ts=ref.ts, reply_broadcast=True, text=reminder_text(card)
        )

    async def to_support(self, ref: CardRef, text: str) -> None:
        await self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=text)

    async def to_customer(self, thread: ThreadRef, agent: str, text: str) -> None:
        await self._client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=_agent_line(agent, text)
        )

    async def customer_said(self, ref: CardRef, customer: str, text: str, *, has_files: bool = False) -> None:
        name = await self.display_name(customer)
        await self._client.chat_postMessage(
            channel=ref.channel, thread_ts=ref.ts, **customer_line(name, text, has_files=has_files)
        )

    async def relay_to_customer(self, thread: ThreadRef, ref: CardRef, agent: str, text: str) -> None:
        line = _agent_line(await self.display_name(agent), text)
        await self._client.chat_postMessage(channel=thread.channel, thread_ts=thread.thread_ts, text=line)
        await self.tell_agent(ref, agent, "_Sent to the customer:_\n" + line)

    async def tell_agent(self, ref: CardRef, agent: str, text: str) -> None:
        try:
            await self._client.chat_postEphemeral(channel=ref.channel, user=agent, thread_ts=ref.ts, text=text)
        except SlackApiError as error:  # e.g. user_not_in_channel: the note is lost, the relay is not
            log.warning("could not show a note to a user in %s: %s", ref.channel, error.response.get("error"))

    async def display_name(self, user: str) -> str:
        if not user:
            return "The customer"
        if user not in self._names:
            try:
                profile = (await self._client.users_info(user=user)).get("user") or {}
            except SlackApiError:
                profile = {}
            name = profile.get("real_name") or profile.get("profile", {}).get("display_name") or profile.get("name")
            self._names[user] = plain_name(str(name or "A ZenNest colleague"))
            if len(self._names) > 1_000:
                self._names.popitem(last=False)
        return self._names[user]

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
