"""Redaction of customer text before it becomes training data: what identifies a person goes.

Emails, phone numbers, order numbers, Slack mentions, and names: the ones given (`known_names`, for
example the team's roster) and the ones a message introduces ("my name is …", "Hi Cris,"). Each is
replaced by a bracketed placeholder, so the conversation still reads naturally and a reviewer sees
that something was there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
# An order number names itself ("order 48213", "order no. ZN-48213", "order #A1B2C3") or has our shape (ZN-…).
ORDER = re.compile(
    r"(?i:\b(?P<lead>order(?:\s+(?:number|no\.?|id|#))?\s*[:#]?\s*))(?P<number>#?[A-Z0-9][A-Z0-9-]{3,})\b"
    r"|\bZN-\d{4,}\b"
)
# Seven digits or more, with the separators people type (+1 415-555-0100, (415) 555 0100, 0412 345 678).
PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w.])")
GREETING = re.compile(r"\b(?P<lead>(?:Hi|Hello|Hey|Dear|Thanks|Thank you),?\s+)(?P<name>[A-Z][a-z]+)\b(?=\s*[,!.])")
INTRODUCTION = re.compile(r"\b(?P<lead>(?i:my name is|this is|I am|I'm)\s+)(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
NOT_NAMES = frozenset({"Sarah", "ZenNest", "There", "Team", "Again", "All", "Everyone", "Support"})


def redact(text: str, known_names: Iterable[str] = ()) -> str:
    """`text` with emails, phone numbers, order numbers, mentions and names replaced by placeholders."""
    text = EMAIL.sub("[email]", text)
    text = MENTION.sub("[person]", text)
    text = ORDER.sub(lambda m: f"{m['lead']}[order number]" if m["lead"] else "[order number]", text)
    text = PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m[0]) >= 7 else m[0], text)
    for name in sorted({n.strip() for n in known_names if len(n.strip()) > 1}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "[name]", text, flags=re.IGNORECASE)
    text = GREETING.sub(lambda m: m[0] if m["name"] in NOT_NAMES else f"{m['lead']}[name]", text)
    return INTRODUCTION.sub(lambda m: m[0] if m["name"].split()[0] in NOT_NAMES else f"{m['lead']}[name]", text)
