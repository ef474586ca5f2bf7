"""The customer's rating after every resolve: one question under their latest message, 1 to 5.

Plain buttons (Slack's native `feedback_buttons` are thumbs only; five steps say more and read the
same in every client). Only the thread's customer may answer, once: the score is set with HSETNX in
the thread's state, so a double tap or a second person changes nothing. The score shows on the
card ("rated 4/5"), is counted in /metrics and the stored numbers, and goes out as a
`handoff.rated` event. RATING_AFTER_RESOLVE=false turns the question off.

After rating, the customer may add one comment in a modal ("Add a comment"): it is kept with the
hand-off (in the thread's state, so `sarah forget` deletes it with the conversation) and shown to
the team in the card's thread, escaped like any customer line. Never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.metrics import Metrics
from bot.ops.service_watch import EventSink
from bot.slack.after_ack import AfterAck, Tell
from handlers.handoff import card_of
from handlers.messages import ThreadRef
from handlers.outbox import Outbox
from handlers.store.ratings import RatingStore
from handlers.store.service_stats import ServiceStats
from handlers.store.thread_store import ThreadStore
from handlers.store.values import located, parse_thread_key

log = logging.getLogger(__name__)

RATE = re.compile(r"^sarah_rate_([1-5])$")
COMMENT = "sarah_rating_comment"  # the thank-you's button and the modal's callback id
COMMENT_CHARS = 1_000
QUESTION = "How did our support team do? 1 = poor, 5 = great."
NOT_YOURS = "Only the person who asked can rate this conversation."
ALREADY = "You have already rated this conversation. Thank you!"


def rating_message(thread: ThreadRef) -> dict[str, Any]:
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": str(n)},
            "action_id": f"sarah_rate_{n}",
            "value": thread.key,
        }
        for n in range(1, 6)
    ]
    return {
        "text": QUESTION,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": QUESTION}},
            {"type": "actions", "block_id": "sarah_rating", "elements": buttons},
        ],
    }


def thanks_message(score: int, thread: ThreadRef) -> dict[str, Any]:
    text = f"Thank you! You rated our support {score}/5."
    button = {"type": "button", "text": {"type": "plain_text", "text": "Add a comment"}, "action_id": COMMENT}
    return {
        "text": text,
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]},
            {"type": "actions", "block_id": "sarah_rating", "elements": [button | {"value": thread.key}]},
        ],
    }


def comment_modal(thread: ThreadRef) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": COMMENT,
        "private_metadata": thread.key,
        "title": {"type": "plain_text", "text": "Your comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "comment",
                "label": {"type": "plain_text", "text": "Anything you'd like our support team to know?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": COMMENT_CHARS,
                },
            }
        ],
    }


class Ratings:
    def __init__(
        self,
        ratings: RatingStore,
        slack: AsyncWebClient,
        store: ThreadStore,
        outbox: Outbox,
        *,
        metrics: Metrics,
        stats: ServiceStats | None,
        events: EventSink | None,
        clock: Callable[[], float],
    ) -> None:
        self._ratings = ratings
        self._slack = slack
        self._store = store
        self._outbox = outbox
        self._metrics = metrics
        self._stats = stats
        self._events = events
        self._clock = clock

    async def ask(self, thread: ThreadRef) -> None:
        """The hand-off was resolved: ask its customer, under their latest message."""
        state = await self._store.state(thread)
        if not state.customer:
            return
        await self._ratings.asked(thread)
        where = located(thread, state.reply_ts)
        try:
            await self._slack.chat_postMessage(
                channel=where.channel, thread_ts=where.thread_ts, **rating_message(thread)
            )
        except SlackApiError as error:  # the resolve stands; only the question is missing
            log.warning("could not ask for a rating: %s", error.response.get("error"))

    async def pressed(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A score button (acknowledged already): record it once, thank, and show it on the card."""
        action = body["actions"][0]
        match = RATE.match(str(action.get("action_id", "")))
        user = str(body.get("user", {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message_ts = str((body.get("message") or {}).get("ts", ""))
        if match is None or ":" not in str(action.get("value", "")) or not user:
            return
        thread = parse_thread_key(str(action["value"]))
        score = int(match.group(1))
        now = self._clock()
        verdict = await self._ratings.rate(thread, user, score, now)
        if verdict != "ok":
            text = ALREADY if verdict == "already" else NOT_YOURS
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        log.info("a customer rated a resolved hand-off", extra={"thread_key": thread.key, "rating": score})
        if message_ts:
            await client.chat_update(channel=channel, ts=message_ts, **thanks_message(score, thread))
        self._metrics.ratings.labels(str(score)).inc()
        if self._stats is not None:
            await self._stats.rated(score)
        if self._events is not None:
            await self._events.emit("handoff.rated", thread, by=user, at=now, extra={"rating": score})
        card = (await self._store.state(thread)).card
        if card is not None:
            await self._outbox.update_card(card, await card_of(self._store, thread))

    async def comment_pressed(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The thank-you's "Add a comment" button: the modal, for the customer who rated, once (the
        press's trigger_id opens a modal for 3 seconds: views.open is the first Web API call made)."""
        action = body["actions"][0]
        user = str(body.get("user", {}).get("id", ""))
        thread = parse_thread_key(str(action.get("value", "")))
        rated = await self._ratings.rated(thread)
        if not user or user != rated.customer or not rated.rating or rated.comment:
            text = NOT_YOURS if user != rated.customer else ALREADY
            await client.chat_postEphemeral(
                channel=str((body.get("channel") or {}).get("id", "")), user=user, text=text
            )
            return
        await client.views_open(trigger_id=str(body.get("trigger_id", "")), view=comment_modal(thread))

    async def comment_sent(self, thread: ThreadRef, user: str, text: str) -> None:
        """The modal was submitted (and closed): keep the comment once, and show it to the team on the card."""
        verdict = await self._ratings.comment(thread, user, text)
        if verdict != "ok":
            return  # not theirs, not rated, or commented already: nothing changes
        log.info("a customer commented on their rating", extra={"thread_key": thread.key})
        card = (await self._store.state(thread)).card
        if card is not None:
            await self._outbox.customer_said(card, user, text)


def _comment_text(body: dict[str, Any]) -> str:
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    return str((values.get("comment") or {}).get("text", {}).get("value") or "")


def _thread_key(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


def _ephemeral(client: AsyncWebClient, body: dict[str, Any]) -> Tell:
    async def tell(text: str) -> Any:
        channel = str((body.get("channel") or {}).get("id", ""))
        return await client.chat_postEphemeral(channel=channel, user=str(body.get("user", {}).get("id", "")), text=text)

    return tell


def register_ratings(app: AsyncApp, ratings: Ratings, after: AfterAck) -> None:
    """Slack is answered at once; the work is done after (bot/slack/after_ack.py)."""

    async def pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        after.run(ratings.pressed(body, client), _ephemeral(client, body), key=_thread_key(body))

    async def comment_pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        after.run(ratings.comment_pressed(body, client), _ephemeral(client, body), key=_thread_key(body))

    async def comment_sent(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        text = _comment_text(body)
        if not text.strip():
            await ack(response_action="errors", errors={"comment": "Write a few words, or press Cancel."})
            return
        await ack()  # the modal closes
        user = str(body.get("user", {}).get("id", ""))
        thread = parse_thread_key(str((body.get("view") or {}).get("private_metadata", "")))

        async def tell(failed: str) -> Any:
            return await client.chat_postEphemeral(channel=thread.channel, user=user, text=failed)

        after.run(ratings.comment_sent(thread, user, text[:COMMENT_CHARS]), tell, key=thread.key)

    app.action(RATE)(pressed)
    app.action(COMMENT)(comment_pressed)
    app.view(COMMENT)(comment_sent)
