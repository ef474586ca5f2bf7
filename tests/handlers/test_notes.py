"""Which lines an agent writes in a card's thread stay internal, spelled the way agents really type
them, and which ordinary replies still reach the customer. Texts are Slack-encoded, as Slack sends
them (a typed `<` arrives as `&lt;`, an emoji as `:name:`)."""

from __future__ import annotations

import pytest

from handlers.notes import is_internal

STAYS_INTERNAL = [
    # the plain spellings
    "note: probably lying",
    "Note - VIP, do not refund",
    "NOTE customer already got two refunds",
    "notes: asked twice already",
    "internal: escalate to billing",
    "*note:* flagged for fraud",
    "_note_: chargeback last year",
    "Checking now.\nnote: probably lying",
    "&gt; [note] asked twice already",
    # lists, as Slack sends a bulleted or numbered line
    "• note: customer is on the legacy plan",
    "◦ internal: check the billing history first",
    "- note: second refund this month",
    "1. internal: refund pending approval",
    "2) note: escalated to engineering",
    "Steps so far:\n• tried a reboot\n• note: probably a bad unit",
    # emoji first
    ":memo: note: customer sounds upset",
    ":warning: internal: do not promise a date",
    "📝 Note: check the order",
    # brackets and tags
    "&lt;internal&gt; chargeback on file",
    "[internal] refund was already issued",
    "(note) this is the third hub",
    "{internal} ask Sam",
    "[NOTE]: fraud flag",
    "Sure, done (note: customer was rude)",
    # who it is for
    "Private note: customer asked for a manager",
    "private: do not share the tracking link",
    "[private] VIP account",
    "Internal note - billing dispute open",
    "Team note: second ticket today",
    "Agent note: verified by phone",
    "Internal only: fraud flag",
    # spelled oddly
    "Note\u00a0: with a non-breaking space",
    "\u200bnote: after an invisible space",
    "ＮＯＴＥ: full-width letters",
    "*_note_*: bold and italic",
    "~internal~ struck through",
    # the explicit marker: a lock emoji starts the message or a line
    ":lock: Customer's last invoice was disputed",
    "🔒 Customer's last invoice was disputed",
    "Thanks, on it.\n:closed_lock_with_key: they have two accounts",
]

RELAYED = [
    "Your refund is on its way.",
    "Noted, I'll look into it right away.",
    "Notifications can be turned on in the ZenNest app.",
    "Your notebook app is not affected.",
    "Internally we test every hub before it ships.",
    "Privacy settings are under Account in the app.",
    "Private channels are not affected.",
    "1. Open the ZenNest app\n2. Tap Devices\n3. Choose your ZenHub",
    "• Hold the reset button for 10 seconds\n• Wait for the light to turn blue",
    ":wave: Hi, I'm Ana from ZenNest support.",
    ":white_check_mark: Your replacement ships Monday.",
    "Quick question: is the hub's light blue or amber?",
    "A technician can visit on Tuesday (morning or afternoon).",
    "[Step 1] Unplug the hub.",
    "Please take a note of the serial number on the back.",
    "The lock's internal battery lasts about a year.",
]


@pytest.mark.parametrize("text", STAYS_INTERNAL)
def test_a_note_line_in_the_spelling_agents_type_keeps_the_message_internal(text: str) -> None:
    assert is_internal(text)


@pytest.mark.parametrize("text", RELAYED)
def test_an_ordinary_reply_is_relayed_to_the_customer(text: str) -> None:
    assert not is_internal(text)
