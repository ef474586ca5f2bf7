"""Buttons and the `/sarah` command: the support team's Claim / Resolve / Hand back, the customer's
Helped / Didn't help, and `/sarah human` and `/sarah reset`.

Card buttons change ownership at once (atomic in Redis; only support-team members may press them).
Everything that touches the conversation itself (feedback, `/sarah human`) is queued into the
thread like a message, so it is handled in order with the thread's other messages.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import CLAIM, HAND_BACK, HELPED, NOT_HELPED, RESOLVE, feedback_given
from bot.inbox import Inbox
from bot.metrics import Metrics
from bot.support_team import SupportTeam
from handlers.handoff import Handoff
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.ownership import Owner, OwnershipStore
from handlers.thread_store import StoredTurn, ThreadStore

log = logging.getLogger(__name__)

HELP = "Try `/sarah human` to reach our support team, or `/sarah reset` to start a fresh conversation."


def register_actions(
    app: AsyncApp,
    *,
    inbox: Inbox,
    store: ThreadStore,
    handoff: Handoff,
    ownership: OwnershipStore,
    team: SupportTeam,
    metrics: Metrics | None = None,
) -> None:
    async def card_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        agent = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id", "")
        if not await team.is_member(agent):
            await client.chat_postEphemeral(
                channel=channel, user=agent, text="Only the support team can claim, resolve or hand back conversations."
            )
            return
        thread = _thread(action.get("value", ""))
        if thread is None:
            log.warning("a card button without a thread was ignored")
            return
        change = {CLAIM: handoff.claim, RESOLVE: handoff.resolve, HAND_BACK: handoff.hand_back}[action["action_id"]]
        why_not = await change(thread, agent)
        if why_not:
            await client.chat_postEphemeral(channel=channel, user=agent, text=why_not)

    async def feedback_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        thread = _thread(action.get("value", ""))
        message = body.get("message") or {}
        if thread is None or not message.get("ts"):
            return
        helped = action["action_id"] == HELPED
        if metrics is not None:
            metrics.feedback.labels("helped" if helped else "not_helped").inc()
        customer = (await store.state(thread)).get("customer")
        if customer and body["user"]["id"] != customer:
            await client.chat_postEphemeral(
                channel=thread.channel, user=body["user"]["id"], text="Only the person who asked can rate this answer."
            )
            return
        await inbox.put(
            InboundMessage(
                thread=thread,
                ts=str(action.get("action_ts") or f"{time.time():.6f}"),
                user=body["user"]["id"],
                text="helped" if helped else "not_helped",
                kind=Kind.FEEDBACK,
                ref=str(message["ts"]),
            )
        )
        blocks = message.get("blocks") or []
        await client.chat_update(
            channel=thread.channel,
            ts=message["ts"],
            text=message.get("text") or " ",
            blocks=feedback_given(blocks, helped),
        )

    async def sarah_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        words = (command.get("text") or "").strip().lower().split()
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        if words[:1] == ["human"]:
            await ack("Okay, I'm handing you to our support team.")
            thread_ts = await inbox.latest_thread(channel, user)
            if thread_ts is None:  # nothing to hand over yet: open a thread for it
                opened = await client.chat_postMessage(channel=channel, text="You asked to talk to our support team.")
                thread_ts = str(opened["ts"])
            await inbox.put(
                InboundMessage(
                    thread=ThreadRef(channel, thread_ts),
                    ts=f"{time.time():.6f}",
                    user=user,
                    text="/sarah human",
                    kind=Kind.COMMAND,
                )
            )
        elif words[:1] == ["reset"]:
            thread_ts = await inbox.latest_thread(channel, user)
            if thread_ts is None:
                await ack("There is no conversation to reset: just write to me.")
                return
            moved = await ownership.transition(
                ThreadRef(channel, thread_ts),
                allowed=(Owner.BOT, Owner.RESOLVED),
                to=Owner.BOT,
                by=user,
                now=time.time(),
                reset_failures=True,
                turns=(StoredTurn("marker", "The customer reset the conversation."),),
            )
            await ack(
                "Fresh start: I've set our earlier conversation aside."
                if moved.changed
                else "Our support team has that conversation; they'll reply in the thread."
            )
        else:
            await ack(HELP)

    app.action(CLAIM)(card_button)
    app.action(RESOLVE)(card_button)
    app.action(HAND_BACK)(card_button)
    app.action(HELPED)(feedback_button)
    app.action(NOT_HELPED)(feedback_button)
    app.command("/sarah")(sarah_command)


def _thread(value: str) -> ThreadRef | None:
    channel, _, thread_ts = value.partition(":")
    return ThreadRef(channel, thread_ts) if channel and thread_ts else None
