"""Buttons and the `/sarah` command: the support team's Claim / Resolve / Hand back, the customer's
Helped / Didn't help, and `/sarah human`, `/sarah reset` and `/sarah forget`.

Card buttons change ownership at once (atomic in Redis; only support-team members from Sarah's own
organisation may press them). Everything that touches the conversation itself (feedback,
`/sarah human`) is queued into the thread like a message, so it is handled in order with the
thread's other messages.

A command acts on the caller's own conversation only: the thread they opened (they are its
customer) in the channel or DM where they typed it, the one they wrote in last. Slack does not say
in which thread a command was typed, so "last written in" is the best guess it leaves us. A replayed
command or button press (same trigger_id / action_ts within Slack's 5-minute signature window)
does nothing the second time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.boundaries import Home
from bot.cards import CLAIM, FEEDBACK, HAND_BACK, HELPED, NOT_HELPED, RESOLVE, feedback_given
from bot.inbox import Inbox
from bot.metrics import Metrics
from bot.support_team import SupportTeam
from handlers.forget import Forgetter
from handlers.handoff import Handoff
from handlers.limits import TEXT_TOO_FAST, TEXT_TOO_MANY_THREADS, Limits, Verdict
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.ownership import Owner, OwnershipStore
from handlers.thread_store import StoredTurn, ThreadStore

log = logging.getLogger(__name__)

HELP = (
    "Try `/sarah human` to reach our support team, `/sarah reset` to start a fresh conversation, or "
    "`/sarah forget` to delete your conversations with me."
)
NOT_SUPPORT = "Only the support team can claim, resolve or hand back conversations."


def register_actions(
    app: AsyncApp,
    *,
    inbox: Inbox,
    store: ThreadStore,
    handoff: Handoff,
    ownership: OwnershipStore,
    team: SupportTeam,
    limits: Limits | None = None,
    forgetter: Forgetter | None = None,
    home: Home | None = None,
    retention_days: float = 30,
    metrics: Metrics | None = None,
) -> None:
    async def replayed(request_id: str) -> bool:
        return limits is not None and not await limits.first_time(request_id)

    async def own_thread(channel: str, user: str) -> ThreadRef | None:
        """The caller's conversation in `channel`: the latest thread they opened there."""
        candidates = await store.own_threads(user, channel)
        latest = await inbox.latest_thread(channel, user)  # threads from before the index existed
        if latest:
            candidates.append(ThreadRef(channel, latest))
        for thread in candidates:
            if (await store.state(thread)).customer == user:
                return thread
        return None

    async def card_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        if await replayed("action:" + str(action.get("action_ts") or body.get("trigger_id") or "")):
            log.info("a replayed button press was ignored")
            return
        agent = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id", "")
        if (home is not None and home.presser_is_external(body)) or not await team.is_member(agent):
            await client.chat_postEphemeral(channel=channel, user=agent, text=NOT_SUPPORT)
            return
        thread = _thread(action.get("value", ""))
        if thread is None:
            log.warning("a card button without a thread was ignored")
            return
        thread = await store.locate(thread)  # a DM conversation: tell the customer where they wrote last
        change = {CLAIM: handoff.claim, RESOLVE: handoff.resolve, HAND_BACK: handoff.hand_back}[action["action_id"]]
        why_not = await change(thread, agent)
        if why_not:
            await client.chat_postEphemeral(channel=channel, user=agent, text=why_not)

    async def feedback_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        if await replayed("action:" + str(action.get("action_ts") or body.get("trigger_id") or "")):
            log.info("a replayed button press was ignored")
            return
        native = action["action_id"] == FEEDBACK  # Slack's feedback_buttons: "helped:<thread>" or "not_helped:…"
        verdict, _, where = str(action.get("value", "")).partition(":") if native else ("", "", "")
        thread = _thread(where if native else action.get("value", ""))
        message = body.get("message") or {}
        if thread is None or not message.get("ts") or (native and verdict not in ("helped", "not_helped")):
            return
        helped = verdict == "helped" if native else action["action_id"] == HELPED
        if metrics is not None:
            metrics.feedback.labels("helped" if helped else "not_helped").inc()
        customer = (await store.state(thread)).customer
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
        if native:
            return  # Slack shows which of its buttons was pressed; the message stays as it is
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
        if await replayed("command:" + str(command.get("trigger_id") or "")):
            log.info("a replayed /sarah command was ignored")
            await ack()
            return
        if words[:1] == ["human"]:
            await ack(await human(channel, user, client))
        elif words[:1] == ["reset"]:
            await ack(await reset(channel, user))
        elif words[:1] == ["forget"]:
            if forgetter is None:
                await ack("I can't delete conversations here.")
                return
            forgotten = await forgetter.forget(user)
            log.info("forgot a person's conversations", extra={"threads": forgotten.threads, "keys": forgotten.keys})
            await ack(forgotten.sentence())
        else:
            await ack(HELP)

    async def human(channel: str, user: str, client: AsyncWebClient) -> str:
        """Queue "/sarah human" into the caller's own thread (opening one if they have none here)."""
        thread = await own_thread(channel, user)
        opened = thread is None
        if thread is None:  # nothing to hand over yet: open a thread for it
            posted = await client.chat_postMessage(channel=channel, text="You asked to talk to our support team.")
            thread = ThreadRef(channel, str(posted["ts"]))
            if thread.is_dm:  # the DM's current conversation from now on: what they write next joins it
                conversation = await store.dm_conversation(user, channel, thread.thread_ts, time.time())
                if conversation != thread.thread_ts:
                    thread = ThreadRef(channel, thread.thread_ts, conversation_ts=conversation)
        if limits is not None:
            verdict = await limits.check_message(user, thread.key, opens_thread=opened, now=time.time())
            if verdict is not Verdict.OK:
                if opened:
                    await client.chat_delete(channel=channel, ts=thread.thread_ts)
                if verdict is Verdict.TOO_MANY_THREADS:
                    return TEXT_TOO_MANY_THREADS.format(n=limits.max_open_threads)
                return TEXT_TOO_FAST
        await inbox.put(
            InboundMessage(thread=thread, ts=f"{time.time():.6f}", user=user, text="/sarah human", kind=Kind.COMMAND)
        )
        return "Okay, I'm handing you to our support team."

    async def reset(channel: str, user: str) -> str:
        thread = await own_thread(channel, user)
        if thread is None:
            return "You have no conversation with me here to reset: just write to me."
        moved = await ownership.transition(
            thread,
            allowed=(Owner.BOT, Owner.RESOLVED),
            to=Owner.BOT,
            by=user,
            now=time.time(),
            reset_failures=True,
            turns=(StoredTurn("marker", "The customer reset the conversation."),),
        )
        if not moved.changed:
            return "Our support team has that conversation; they'll reply in the thread."
        return (
            "Fresh start: I've set our earlier conversation aside and won't use it in my answers. I still "
            f"keep its messages for {retention_days:g} days after the last one, then they're deleted; "
            "`/sarah forget` deletes all your conversations with me now."
        )

    app.action(CLAIM)(card_button)
    app.action(RESOLVE)(card_button)
    app.action(HAND_BACK)(card_button)
    app.action(HELPED)(feedback_button)
    app.action(NOT_HELPED)(feedback_button)
    app.action(FEEDBACK)(feedback_button)
    app.command("/sarah")(sarah_command)


def _thread(value: str) -> ThreadRef | None:
    channel, _, thread_ts = value.partition(":")
    return ThreadRef(channel, thread_ts) if channel and thread_ts else None
