"""Which lines an agent writes in a card's thread are internal notes, never to reach the customer.

Agents write notes the way they write anywhere: `note:`, `*note:*`, `_note_:`, `Note -`, `NOTE`,
`internal:`, `[note]`, on the first line or any later one. A message with such a line anywhere is
kept internal as a whole (the lines around a note are usually about it), and Sarah tells the agent
so: a false alarm costs a re-send, a leak cannot be taken back.
"""

from __future__ import annotations

import re

_NOTE_LINE = re.compile(r"^(?:[\s*_~`\[({/#>|-]|&gt;)*(?:notes?|internal)(?![a-z0-9])", re.IGNORECASE)


def is_internal(text: str) -> bool:
    """True when any line of `text` (Slack-encoded) starts as an internal note."""
    return any(_NOTE_LINE.match(line) for line in text.splitlines())
