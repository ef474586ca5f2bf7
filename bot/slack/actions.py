"""Buttons and the `/sarah` command: the support team's Claim / Resolve / Hand back, the customer's
Helped / Didn't help, and `/sarah human`, `/sarah reset` and `/sarah forget`.

Card buttons change ownership at once (atomic in Redis; only support-team members from Sarah's own
organisation may press them). Everything that touches the conversation itself (feedback,
`/sarah human`) is queued into the thread like a message, so it is handled in order with the
thread's other messages.

Slack is answered before any of that work (it allows 3 seconds; the work may take several Web API
calls): a press is acknowledged empty, `/sarah human` with "One moment…" and `/sarah forget` with
"Deleting…", whose answers follow through the command's response_url; the work runs after
(bot/slack/after_ack.py). Work that fails then is told to the person, for their eyes only.

A command acts on the caller's own conversation only: the thread they opened (they are its
customer) in the channel or DM where they typed it, the one they wrote in last. Slack does not say
in which thread a command was typed, so "last written in" is the best guess it leaves us. A replayed
command or button press (same trigger_id / action_ts within Slack's 5-minute signature window)
does nothing the second time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ops.metrics import Metrics
from bot.slack.after_ack import AfterAck, Tell
from bot.slack.boundaries import Home
from bot.slack.cards import CLAIM, FEEDBACK, HAND_BACK, HELPED, NOT_HELPED, RESOLVE, feedback_given
from bot.slack.support_team import SupportTeam
from bot.slack.text import sarah_mrkdwn
from handlers.handoff import Handoff
from handlers.messages import InboundMessage, Kind, ThreadRef
from handlers.store.forget import Forgetter
from handlers.store.inbox import Inbox
from handlers.store.limits import TEXT_TOO_FAST, TEXT_TOO_MANY_THREADS, Limits, Verdict
from handlers.store.ownership import Owner, OwnershipStore
from handlers.store.thread_store import ThreadStore
from handlers.store.values import StoredTurn, parse_thread_key

log = logging.getLogger(__name__)

Change = Callable[[ThreadRef, str], Awaitable[str | None]]  # a card button's change of hands; why not, or None

HELP = (
    "Try `/sarah human` to reach our support team, `/sarah reset` to start a fresh conversation, or "
    "`/sarah forget` to delete your conversations with me."
)
NOT_SUPPORT = "Only the support team can claim, resolve or hand back conversations."
ELSEWHERE = "send me a direct message and type `/sarah human` there, and I'll hand you to our support team."
# What Slack answers when Sarah cannot post where a command was typed, and what the person is told.
CANNOT_POST = {
    "not_in_channel": "I'm not in this channel, so I can't open a conversation here. Invite me with "
    "`/invite @Sarah`, or " + ELSEWHERE,
    "is_archived": "This channel is archived, so I can't write here: " + ELSEWHERE,
}
CANNOT_POST_ANYWHERE_ELSE = "I can't write in this conversation, so I couldn't do that here: " + ELSEWHERE
ONE_MOMENT = "One moment…"
DELETING = "Deleting…"
FORGET_FAILED = (
    "Sorry, something went wrong on my side before I could delete everything. Type `/sarah forget` again in a moment."
)
GONE_FOR_AGENT = (
    "This conversation is no longer stored (the customer deleted it, or it expired), so nothing was changed."
)
GONE_FOR_CUSTOMER = (
    "This conversation is no longer stored (it was deleted, or it expired), so your answer wasn't recorded. "
    "Write to me to start a new one."
)


class SupportActions:
    """The listeners of the card buttons, the feedback buttons and `/sarah`."""

    def __init__(
        self,
        *,
        inbox: Inbox,
        after: AfterAck,
        store: ThreadStore,
        handoff: Handoff,
        ownership: OwnershipStore,
        team: SupportTeam,
        limits: Limits | None = None,
        forgetter: Forgetter | None = None,
        retention_days: float = 30,
        metrics: Metrics | None = None,
    ) -> None:
        self._after = after  # where the work of every press and of `human` / `forget` runs
        self._inbox = inbox
        self._store = store
        self._handoff = handoff
        self._ownership = ownership
        self._team = team
        self._limits = limits
        self._forgetter = forgetter
        self._retention_days = retention_days
        self._metrics = metrics

    def register(self, app: AsyncApp, home: Home | None = None) -> None:
        """The listeners, on `app`; `home` (Sarah's workspace, learned as she starts) turns away a
        card button pressed from another organisation."""
        outsider = home.presser_is_external if home is not None else _nobody
        app.action(CLAIM)(self._card_button(self._handoff.claim, outsider))
        app.action(RESOLVE)(self._card_button(self._handoff.resolve, outsider))
        app.action(HAND_BACK)(self._card_button(self._handoff.hand_back, outsider))
        app.action(HELPED)(self.feedback)
        app.action(NOT_HELPED)(self.feedback)
        app.action(FEEDBACK)(self.feedback)
        app.command("/sarah")(self.sarah_command)

    # -- the card's buttons (support team) -------------------------------------------------------------

    def _card_button(
        self, change: Change, outsider: Callable[[dict[str, Any]], bool]
    ) -> Callable[[AsyncAck, dict[str, Any], AsyncWebClient], Awaitable[None]]:
        """The listener of one card button (Bolt passes its arguments by name)."""

        async def pressed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await self._pressed(ack, body, client, change, outsider)

        return pressed

    async def _pressed(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        change: Change,
        outsider: Callable[[dict[str, Any]], bool],
    ) -> None:
        await ack()
        self._after.run(self._change_hands(body, client, change, outsider), _ephemeral(client, body), key=_key(body))

    async def _change_hands(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        change: Callable[[ThreadRef, str], Awaitable[str | None]],
        outsider: Callable[[dict[str, Any]], bool],
    ) -> None:
        action = body["actions"][0]
        if await self._replayed("action:" + str(action.get("action_ts") or body.get("trigger_id") or "")):
            log.info("a replayed button press was ignored")
            return
        agent = body["user"]["id"]
        tell = _ephemeral(client, body)
        if outsider(body) or not await self._team.is_member(agent):
            await tell(NOT_SUPPORT)
            return
        thread = _thread(action.get("value", ""))
        if thread is None:
            log.warning("a card button without a thread was ignored")
            return
        if not await self._store.exists(thread):  # forgotten or expired: a button must not bring it back
            await tell(GONE_FOR_AGENT)
            return
        thread = await self._store.locate(thread)  # a DM conversation: tell the customer where they wrote last
        why_not = await change(thread, agent)
        if why_not:
            await tell(why_not)

    # -- the customer's feedback buttons ---------------------------------------------------------------

    async def feedback(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        self._after.run(self._feedback(body, client), _ephemeral(client, body), key=_key(body))

    async def _feedback(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]
        if await self._replayed("action:" + str(action.get("action_ts") or body.get("trigger_id") or "")):
            log.info("a replayed button press was ignored")
            return
        native = action["action_id"] == FEEDBACK  # Slack's feedback_buttons: "helped:<thread>" or "not_helped:…"
        verdict, _, where = str(action.get("value", "")).partition(":") if native else ("", "", "")
        thread = _thread(where if native else action.get("value", ""))
        message = body.get("message") or {}
        if thread is None or not message.get("ts") or (native and verdict not in ("helped", "not_helped")):
            return
        helped = verdict == "helped" if native else action["action_id"] == HELPED
        customer = (await self._store.state(thread)).customer
        if not customer and not await self._store.exists(thread):  # forgotten or expired: nobody's to rate
            await client.chat_postEphemeral(
                channel=thread.channel, user=body["user"]["id"], text=sarah_mrkdwn(GONE_FOR_CUSTOMER)
            )
            return
        if customer and body["user"]["id"] != customer:
            await client.chat_postEphemeral(
                channel=thread.channel,
                user=body["user"]["id"],
                text=sarah_mrkdwn("Only the person who asked can rate this answer."),
            )
            return
        if self._metrics is not None:  # counted once the presser is known to be the one who asked
            self._metrics.feedback.labels("helped" if helped else "not_helped").inc()
        await self._inbox.put(
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

    # -- /sarah human | reset | forget ---------------------------------------------------------------

    async def sarah_command(
        self, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Help and `/sarah reset` (Redis only) are answered in the acknowledgement; `human` and `forget`
        are acknowledged at once and answered through the command's response_url when done."""
        words = (command.get("text") or "").strip().lower().split()
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        if await self._replayed("command:" + str(command.get("trigger_id") or "")):
            log.info("a replayed /sarah command was ignored")
            await ack()
            return
        if words[:1] == ["human"]:
            await ack(ONE_MOMENT)
            self._after.run(self._human_answered(channel, user, client, respond), _answer(respond), key=user)
        elif words[:1] == ["reset"]:
            await ack(await self.reset(channel, user))
        elif words[:1] == ["forget"]:
            if self._forgetter is None:
                await ack("I can't delete conversations here.")
                return
            await ack(DELETING)
            forget = self._forget(self._forgetter, user, respond)
            self._after.run(forget, _answer(respond), key=user, failed=FORGET_FAILED)
        else:
            await ack(HELP)

    async def _human_answered(self, channel: str, user: str, client: AsyncWebClient, respond: AsyncRespond) -> None:
        try:
            answer = await self.human(channel, user, client)
        except SlackApiError as error:  # Sarah cannot post here: say so, not Slack's "dispatch_failed"
            code = str(error.response.get("error", ""))
            log.info("/sarah human where Sarah cannot post", extra={"slack_error": code})
            answer = CANNOT_POST.get(code, CANNOT_POST_ANYWHERE_ELSE)
        await _answer(respond)(answer)

    async def _forget(self, forgetter: Forgetter, user: str, respond: AsyncRespond) -> None:
        forgotten = await forgetter.forget(user)
        log.info("forgot a person's conversations", extra={"threads": forgotten.threads, "keys": forgotten.keys})
        await _answer(respond)(forgotten.sentence())

    async def human(self, channel: str, user: str, client: AsyncWebClient) -> str:
        """Queue "/sarah human" into the caller's own thread (opening one if they have none here)."""
        thread = await self._own_thread(channel, user)
        opened = thread is None
        if thread is None:  # nothing to hand over yet: open a thread for it
            posted = await client.chat_postMessage(
                channel=channel, text=sarah_mrkdwn("You asked to talk to our support team.")
            )
            thread = ThreadRef(channel, str(posted["ts"]))
            if thread.is_dm:  # the DM's current conversation from now on: what they write next joins it
                conversation = await self._store.dm_conversation(user, channel, thread.thread_ts, time.time())
                if conversation != thread.thread_ts:
                    thread = ThreadRef(channel, thread.thread_ts, conversation_ts=conversation)
        if self._limits is not None:
            verdict = await self._limits.check_message(user, thread.key, opens_thread=opened, now=time.time())
            if verdict is not Verdict.OK:
                if opened:
                    await client.chat_delete(channel=channel, ts=thread.thread_ts)
                if verdict is Verdict.TOO_MANY_THREADS:
                    return TEXT_TOO_MANY_THREADS.format(n=self._limits.max_open_threads)
                return TEXT_TOO_FAST
        await self._inbox.put(
            InboundMessage(thread=thread, ts=f"{time.time():.6f}", user=user, text="/sarah human", kind=Kind.COMMAND)
        )
        return "Okay, I'm handing you to our support team."

    async def reset(self, channel: str, user: str) -> str:
        thread = await self._own_thread(channel, user)
        if thread is None:
            return "You have no conversation with me here to reset: just write to me."
        moved = await self._ownership.transition(
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
            f"keep its messages for {self._retention_days:g} days after the last one, then they're deleted; "
            "`/sarah forget` deletes all your conversations with me now."
        )

    # -- helpers ---------------------------------------------------------------------------------------

    async def _replayed(self, request_id: str) -> bool:
        return self._limits is not None and not await self._limits.first_time(request_id)

    async def _own_thread(self, channel: str, user: str) -> ThreadRef | None:
        """The caller's conversation in `channel`: the latest thread they opened there."""
        candidates = await self._store.own_threads(user, channel)
        latest = await self._inbox.latest_thread(channel, user)  # threads from before the index existed
        if latest:
            candidates.append(ThreadRef(channel, latest))
        for thread in candidates:
            if (await self._store.state(thread)).customer == user:
                return thread
        return None


def _key(body: dict[str, Any]) -> str:
    """What a button press acts on: the thread in its value (feedback_buttons: after "helped:")."""
    value = str(body["actions"][0].get("value", ""))
    return value.partition(":")[2] if value.startswith(("helped:", "not_helped:")) else value


def _ephemeral(client: AsyncWebClient, body: dict[str, Any]) -> Tell:
    """Tell the presser `text`, for their eyes only, where they pressed."""

    async def tell(text: str) -> Any:
        channel = str((body.get("channel") or {}).get("id", ""))
        return await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=sarah_mrkdwn(text))

    return tell


def _answer(respond: AsyncRespond) -> Tell:
    """A command's answer after its acknowledgement, through the command's response_url."""

    async def tell(text: str) -> None:
        sent = await respond(text=text, response_type="ephemeral")
        if sent.status_code != 200:
            log.warning("Slack refused a command's answer", extra={"status": sent.status_code})

    return tell


def _thread(value: str) -> ThreadRef | None:
    thread = parse_thread_key(value)
    return thread if thread.channel and thread.thread_ts else None


def _nobody(body: dict[str, Any]) -> bool:
    """Without a known home workspace, no presser is taken for an outsider (the team check still applies)."""
    return False
