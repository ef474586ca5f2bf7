"""Plain checks in code for what must never depend on the model alone.

An explicit request for a person hands off at once even if the model misses it, and "that didn't
work" counts as a failure of Sarah's previous answer. Both are conservative: "human detected" on a
camera or "the agent app" are not requests for a person.
"""

from __future__ import annotations

import re

_PERSON = (
    r"(?:a |an |the |some |real |actual |live )*"
    r"(?:human|person|people|agent|someone|somebody|representative|rep|operator|staff|support(?: team| staff| agent)?)"
)

_WANTS_HUMAN = [
    re.compile(r"^\s*/?sarah\s+human\b", re.I),
    re.compile(
        r"^\s*[\"']?(?:human|agent|operator|representative|real person|a person)[\"']?"
        r"\s*(?:please|pls|now)?\s*[.!?]*\s*$",
        re.I,
    ),
    re.compile(rf"\b(?:talk|speak|chat)(?:ing)?\s+(?:to|with)\s+{_PERSON}\b", re.I),
    re.compile(r"\b(?:real|actual|live)\s+(?:human|person|agent|people)\b", re.I),
    re.compile(rf"\b(?:get|give|connect|transfer|put)\s+me\s+(?:to|through to|with)?\s*{_PERSON}\b", re.I),
    re.compile(rf"\b(?:want|need|request)\s+(?:to\s+(?:talk|speak)\s+to\s+)?{_PERSON}\b", re.I),
    re.compile(r"\bhuman,?\s+please\b|\bescalate\b", re.I),
]

_NOT_A_REQUEST = re.compile(r"\bhuman (?:detected|detection)\b|\bperson detect|\bagent app\b|\buser agent\b", re.I)

_DID_NOT_WORK = re.compile(
    r"\b(?:(?:did(?:n'?t| not)|does(?:n'?t| not)|has(?:n'?t| not)|is(?:n'?t| not)|still (?:not|doesn'?t|won'?t))\s+"
    r"(?:work|help|fix|solve|change|do anything)|still (?:broken|the same|offline|not working|blinking|red)|"
    r"no luck|same problem|no change|tried (?:that|it|everything)(?:,| and| but)? (?:still|no|nothing|didn'?t))",
    re.I,
)


def wants_human(text: str) -> bool:
    """True when the customer explicitly asks for a person."""
    if _NOT_A_REQUEST.search(text) and not re.search(r"\b(?:talk|speak)\s+to\b", text, re.I):
        return False
    return any(pattern.search(text) for pattern in _WANTS_HUMAN)


def says_it_did_not_work(text: str) -> bool:
    """True when the customer reports that Sarah's suggestion did not work."""
    return bool(_DID_NOT_WORK.search(text))
