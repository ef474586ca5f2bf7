"""The labels that tell the model who spoke in a channel thread, and their defusing in what people type.

A label is only Sarah's to write: a line someone typed that reads as a label, in any spelling the
model would take for it (another case, non-breaking or other Unicode spaces, full-width letters or
brackets, invisible characters inside), is shown to the model in parentheses instead. The text is
compared character by character after NFKC and casefolding, so the words around a label reach the
model exactly as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

OTHER_LABEL = "[Another person in this channel, not the customer]"
AGENT_LABEL = "[ZenNest support agent]"
LABELS = (OTHER_LABEL, AGENT_LABEL)

_OPEN = "[【〔〖⟦"
_CLOSE = "]】〕〗⟧"


def defused(text: str) -> str:
    """`text` with every spelling of a speaker label turned into its parenthesised, inert form."""
    folded, origin = _folded(text)
    spans = sorted(m.span() for label in LABELS for m in _pattern(label).finditer(folded))
    if not spans:
        return text
    out: list[str] = []
    cursor = 0
    for start, end in spans:
        first, last = origin[start], origin[end - 1] + 1
        if first < cursor:
            continue
        out.append(text[cursor:first])
        out.append("(" + " ".join(text[first + 1 : last - 1].split()) + ")")
        cursor = last
    out.append(text[cursor:])
    return "".join(out)


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` per character NFKC-normalised, casefolded, any space as " " and invisible format
    characters dropped; with the index in `text` each folded character came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        folded = " " if char.isspace() or category == "Zs" else unicodedata.normalize("NFKC", char).casefold()
        for piece in folded:
            chars.append(piece)
            origin.append(index)
    return "".join(chars), origin


@cache
def _pattern(label: str) -> re.Pattern[str]:
    words = label[1:-1].casefold().split()
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"[{re.escape(_OPEN)}]\s*{body}\s*[{re.escape(_CLOSE)}]")
