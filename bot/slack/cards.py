"""Block Kit for Sarah's messages: answers with feedback buttons, and the support team's hand-off card.

Pure functions from data to blocks, tested on their own. Nothing a customer, agent or the model
wrote is put in a card as is (`bot.slack.text`): no mention in it is live and no link clickable. The
transcript is one `rich_text` block per turn, the speaker set by Sarah and the words quoted under
it, so a line break in a message cannot forge a new speaker; the summary says the model wrote it.
"""

from __future__ import annotations

import time
from typing import Any

from bot.slack.text import browser_host, escape, from_model, from_slack, plain_mrkdwn, rich_text_elements, user_mention
from handlers.messages import SharedFile
from handlers.outbox import Card
from handlers.prompt import HandoffReason
from handlers.store.ownership import Owner
from handlers.store.values import StoredTurn

__all__ = [
    "asked_again_line",
    "card_message",
    "customer_line",
    "escape",
    "feedback_actions",
    "feedback_given",
    "reminder_text",
]

SECTION_LIMIT = 3_000
TURN_LIMIT = 1_500  # characters of one quoted turn in a card (the newest turns matter most)
SUMMARY_LABEL = "Summary, written by Sarah's model: check it against the transcript"

CLAIM, RESOLVE, HAND_BACK = "sarah_claim", "sarah_resolve", "sarah_hand_back"
HELPED, NOT_HELPED = "sarah_helped", "sarah_not_helped"
FEEDBACK = "sarah_feedback_buttons"  # Slack's native feedback_buttons; the value says which and where

# The one wording of each reason, on the card and in the App Home queue alike.
REASONS: dict[str, str] = {
    HandoffReason.CUSTOMER_ASKED: "The customer asked for a person",
    HandoffReason.NEEDS_STAFF_ACCESS: "Needs staff access (account, billing or device)",
    HandoffReason.STEPS_FAILED: "Sarah's steps did not work",
    HandoffReason.UNKNOWN_ANSWER: "Sarah does not know the answer",
    HandoffReason.MODEL_UNAVAILABLE: "Sarah's model was unavailable",
    HandoffReason.CLAIMED_ACTION: "Sarah's answers claimed actions she cannot take",
}
# Every speaker label on a card is Sarah's own, never a Slack profile name (anyone can call themselves
# "Support"): the customer, anyone else in a channel thread, the support team, Sarah.
CUSTOMER, OTHER_PERSON, AGENT, SARAH = "Customer", "Another person in the thread", "Support agent", "Sarah"
SPEAKERS = {"user": CUSTOMER, "assistant": SARAH, "agent": AGENT}


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


def native_feedback(thread_key: str) -> dict[str, Any]:
    """Slack's own 👍/👎 under an answer (`feedback_buttons` in `context_actions`). Each value is
    "helped:<thread>" or "not_helped:<thread>", read by bot/slack/actions.py like the old buttons."""

    def button(text: str, label: str, value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "accessibility_label": label, "value": value}

    return {
        "type": "context_actions",
        "block_id": "sarah_feedback",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK,
                "positive_button": button("Helped", "This answer helped", f"helped:{thread_key}"),
                "negative_button": button("Didn't help", "This answer didn't help", f"not_helped:{thread_key}"),
            }
        ],
    }


def feedback_given(blocks: list[dict[str, Any]], helped: bool) -> list[dict[str, Any]]:
    """The answer's blocks with its buttons replaced by what the customer said."""
    note = "You said this helped. Thanks!" if helped else "You said this didn't help."
    kept = [b for b in blocks if b.get("block_id") != "sarah_feedback"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def _status(card: Card, now: float) -> str:
    by = user_mention(card.status_by) if card.status_by else "someone"
    if card.status is Owner.WAITING:
        minutes = max(0, int((now - card.escalated_at) // 60))
        return f":hourglass_flowing_sand: Waiting for an agent ({minutes} min)"
    if card.status is Owner.HUMAN:
        waited = max(0, int((card.status_at - card.escalated_at) // 60)) if card.escalated_at else 0
        return f":raising_hand: Claimed by {by} after {waited} min"
    if card.status is Owner.RESOLVED:
        rated = f" · rated {card.rating}/5" if card.rating else ""
        return f":white_check_mark: Resolved by {by}{rated}"
    return f":leftwards_arrow_with_hook: Handed back to Sarah by {by}"


def quoted(speaker: str, elements: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    """A `rich_text` block: `speaker` in bold (set by Sarah), then the words in a quote."""
    return {
        "type": "rich_text",
        "block_id": block_id,
        "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": speaker, "style": {"bold": True}}]},
            {"type": "rich_text_quote", "elements": elements},
        ],
    }


def _cut(text: str) -> str:
    return text if len(text) <= TURN_LIMIT else text[: TURN_LIMIT - 1] + "…"


def _transcript(card: Card) -> list[dict[str, Any]]:
    blocks = []
    for index, turn in enumerate(card.transcript):
        text = _cut(turn.content)
        pieces = from_model(text) if turn.role == "assistant" else from_slack(text)
        blocks.append(
            quoted(_speaker(turn, card.customer), rich_text_elements(pieces), f"sarah_turn_{index}_{turn.role}")
        )
    return blocks


def _speaker(turn: StoredTurn, customer: str) -> str:
    """Who wrote a quoted line: a person's line is the customer's only if they are the thread's
    customer (a bystander's line, or one read from the thread before Sarah was mentioned, is not)."""
    if turn.role == "user" and customer and turn.user and turn.user != customer:
        return OTHER_PERSON
    return SPEAKERS.get(turn.role, "Someone")


def slack_file_link(url: str) -> bool:
    """Only Slack's own pages (a shared file, a message's permalink) are linked: a file's name is
    customer text, its link must not be."""
    host = browser_host(url) or ""
    return url.lower().startswith("https://") and (host == "slack.com" or host.endswith(".slack.com"))


def _files(card: Card) -> list[dict[str, Any]]:
    """The files the customer shared, one per line: the name (plain text, as written) linked to Slack's
    page for it; the file itself is never downloaded by Sarah."""
    if not card.files:
        return []
    elements: list[dict[str, Any]] = []
    for index, shared in enumerate(card.files):
        if index:
            elements.append({"type": "text", "text": "\n"})
        elements.append(_file_element(shared))
    blocks: list[dict[str, Any]] = [quoted("Files the customer shared", elements, "sarah_files")]
    if card.thread.is_dm:
        note = (
            "Shared in a DM: Slack opens these only for people in that DM. If you can't open one, ask the "
            "customer to describe it."
        )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return blocks


def _file_element(shared: SharedFile) -> dict[str, Any]:
    name = shared.name[:200] or "a file"
    if shared.permalink and slack_file_link(shared.permalink):
        return {"type": "link", "url": shared.permalink, "text": name}
    return {"type": "text", "text": name}


def customer_line(text: str, *, has_files: bool) -> dict[str, Any]:
    """A DM customer's message relayed into the card's thread: Sarah's label, their words quoted
    (the card names the customer; a profile name could read like the team's own label)."""
    elements = rich_text_elements(from_slack(_cut(text))) if text.strip() else []
    if has_files:
        elements.append(
            {"type": "text", "text": "\n[sent a file, which I can't pass on here: ask them to describe it]"}
        )
    return {
        "text": "The customer wrote",
        "blocks": [quoted(CUSTOMER, elements or [{"type": "text", "text": " "}], "sarah_customer_line")],
    }


def asked_again_line(customer: str, latest: str) -> dict[str, Any]:
    """On an open card's thread: the customer asked for a person again elsewhere; their latest words
    there quoted under Sarah's label."""
    said = f"{user_mention(customer)} asked for help again, in another conversation with Sarah."
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"_{said}_"}}]
    if latest.strip():
        words = rich_text_elements(from_slack(_cut(latest)))
        blocks.append(quoted("Their latest message there", words, "sarah_asked_again"))
    return {"text": said, "blocks": blocks}


def card_message(card: Card, *, permalink: str | None, now: float | None = None) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update of the escalation card."""
    now = time.time() if now is None else now
    reason = REASONS.get(card.reason, card.reason or "Hand-off")
    fields = [
        f"*Customer*\n{user_mention(card.customer)}" if card.customer else "*Customer*\nunknown",
        f"*Reason*\n{plain_mrkdwn(reason)}",
        f"*Failures*\n{card.failures}",
        f"*Status*\n{_status(card, now)}",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "A customer needs a person"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        quoted(SUMMARY_LABEL, rich_text_elements(from_model(_cut(card.summary or "—"))), "sarah_summary"),
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Transcript*" if card.transcript else "*Transcript*\n_(no messages)_"},
        },
        *_transcript(card),
        *_files(card),
    ]
    where = "Thread link unavailable"
    if permalink and slack_file_link(permalink) and "|" not in permalink and ">" not in permalink:
        where = f"<{escape(permalink)}|Open the customer's thread>"
    if card.thread.is_dm:
        where = (
            "This is a DM, which you cannot see: reply in this card's thread and I'll relay it "
            "(support team members only; you get a copy of what was sent). A message with a line "
            "starting :lock:, `note:` or `internal:` stays internal, all of it."
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": where}]})
    buttons = _buttons(card)
    if buttons:
        blocks.append({"type": "actions", "block_id": "sarah_handoff", "elements": buttons})
    return {"text": f"A customer needs a person: {plain_mrkdwn(reason)}", "blocks": blocks}


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
