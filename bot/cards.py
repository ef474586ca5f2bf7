"""Block Kit for Sarah's messages: answers with feedback buttons, and the support team's hand-off card.

Pure functions from data to blocks, tested on their own. Text from customers goes into mrkdwn
fields escaped, so a customer cannot ping @channel or forge a link in the support channel.
"""

from __future__ import annotations

import time
from typing import Any

from handlers.outbox import Card
from handlers.ownership import Owner

SECTION_LIMIT = 3_000

CLAIM, RESOLVE, HAND_BACK = "sarah_claim", "sarah_resolve", "sarah_hand_back"
HELPED, NOT_HELPED = "sarah_helped", "sarah_not_helped"

REASONS = {
    "customer_asked": "The customer asked for a person",
    "needs_staff_access": "Needs staff access (account, billing or device)",
    "steps_failed": "Sarah's steps did not work",
    "unknown_answer": "Sarah does not know the answer",
    "model_unavailable": "Sarah's model was unavailable",
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def feedback_actions(thread_key: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "sarah_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": HELPED,
                "value": thread_key,
                "text": {"type": "plain_text", "text": "Helped"},
            },
            {
                "type": "button",
                "action_id": NOT_HELPED,
                "value": thread_key,
                "text": {"type": "plain_text", "text": "Didn't help"},
            },
        ],
    }


def feedback_given(blocks: list[dict[str, Any]], helped: bool) -> list[dict[str, Any]]:
    """The answer's blocks with its buttons replaced by what the customer said."""
    note = "You said this helped. Thanks!" if helped else "You said this didn't help."
    kept = [b for b in blocks if b.get("block_id") != "sarah_feedback"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def _status(card: Card, now: float) -> str:
    by = f"<@{card.status_by}>" if card.status_by else "someone"
    if card.status is Owner.WAITING:
        minutes = max(0, int((now - card.escalated_at) // 60))
        return f":hourglass_flowing_sand: Waiting for an agent ({minutes} min)"
    if card.status is Owner.HUMAN:
        waited = max(0, int((card.status_at - card.escalated_at) // 60)) if card.escalated_at else 0
        return f":raising_hand: Claimed by {by} after {waited} min"
    if card.status is Owner.RESOLVED:
        return f":white_check_mark: Resolved by {by}"
    return f":leftwards_arrow_with_hook: Handed back to Sarah by {by}"


def _transcript(card: Card) -> str:
    speaker = {"user": "Customer", "assistant": "Sarah", "agent": "Support"}
    lines = [f"*{speaker.get(t.role, t.role)}:* {escape(t.content)}" for t in card.transcript]
    text = "\n".join(lines) or "_(no messages)_"
    if len(text) > SECTION_LIMIT - 40:
        text = "…" + text[-(SECTION_LIMIT - 41) :]  # the newest lines matter most
    return text


def card_message(card: Card, *, permalink: str | None, now: float | None = None) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update of the escalation card."""
    now = time.time() if now is None else now
    reason = REASONS.get(card.reason, card.reason or "Hand-off")
    fields = [
        f"*Customer*\n<@{card.customer}>" if card.customer else "*Customer*\nunknown",
        f"*Reason*\n{reason}",
        f"*Failures*\n{card.failures}",
        f"*Status*\n{_status(card, now)}",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "A customer needs a person"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Summary*\n" + escape(card.summary or "—")[:2_900]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Transcript*\n" + _transcript(card)}},
    ]
    where = f"<{permalink}|Open the customer's thread>" if permalink else "Thread link unavailable"
    if card.thread.is_dm:
        where = (
            "This is a DM, which you cannot see: reply in this card's thread and I'll relay it. "
            "Start a line with `note:` to keep it internal."
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": where}]})
    buttons = _buttons(card)
    if buttons:
        blocks.append({"type": "actions", "block_id": "sarah_handoff", "elements": buttons})
    return {"text": f"A customer needs a person: {reason}", "blocks": blocks}


def _buttons(card: Card) -> list[dict[str, Any]]:
    def button(action: str, label: str, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action,
            "value": card.thread.key,
            "text": {"type": "plain_text", "text": label},
        }
        if style:
            element["style"] = style
        return element

    if card.status is Owner.WAITING:
        return [button(CLAIM, "Claim", "primary"), button(RESOLVE, "Resolve"), button(HAND_BACK, "Hand back to Sarah")]
    if card.status is Owner.HUMAN:
        return [button(RESOLVE, "Resolve", "primary"), button(HAND_BACK, "Hand back to Sarah")]
    return []


def reminder_text(card: Card, now: float | None = None) -> str:
    now = time.time() if now is None else now
    minutes = max(0, int((now - card.escalated_at) // 60))
    return f":alarm_clock: Still waiting for someone after {minutes} min. Press *Claim* on this card to take it."
