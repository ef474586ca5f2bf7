"""Which lines an agent writes in a card's thread are internal notes, never to reach the customer.

The rule, from what agents really type (docs/support-team.md says it for them). A message stays
internal as a whole when any of its lines:

- starts with a lock emoji (`:lock:`, `:closed_lock_with_key:`, 🔒, 🔐): the explicit way, which no
  ordinary reply starts with;
- starts, after list markers (`•`, `-`, `1.`, `2)`), quote marks, formatting (`*_~` and backticks),
  opening brackets and emoji, with `note`, `notes` or `internal` as a word, or with `private`,
  `team`, `agent` or `staff` followed by `note`, or `private` / `internal only` followed by
  punctuation (`Private note:`, `[private]`, `Team note -`);
- holds a bracketed tag anywhere: `(note: …)`, `[internal]`, `<private>`.

Text is compared after NFKC (full-width letters), with invisible characters dropped and any space
as a space. The lines around a note are usually about it, so the whole message stays internal and
Sarah tells the agent: a false alarm costs a re-send, a leak cannot be taken back.
"""

from __future__ import annotations

import re
import unicodedata

_LOCK = re.compile(r"^\s*(?:&gt;\s*)*(?::lock:|:closed_lock_with_key:|\U0001f512|\U0001f510)")
# What may come before the note word: spaces, list markers and numbers, quotes, formatting,
# opening brackets (a typed `<` arrives as `&lt;`), and emoji (`:memo:` or a pictograph).
_LEAD = (
    r"(?:\s|&gt;|&lt;|[*_~`\[({/#>|+\-–—•◦▪▫‣⁃●○■□]|\d{1,3}[.)]"
    r"|:[a-z0-9_+'-]{1,40}:|[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f])*"
)
_WORD = r"(?![a-z0-9])"
_NOTE_WORD = rf"(?:notes?|internal){_WORD}"
_FOR_WHOM = rf"(?:private|team|agent|staff)[\s\-]*notes?{_WORD}|(?:private|internal[\s\-]+only)\s*[:\-–—\])}}>&]"
_NOTE_LINE = re.compile(rf"^{_LEAD}(?:{_NOTE_WORD}|{_FOR_WHOM})", re.IGNORECASE)
_TAG = re.compile(
    r"(?:[\[({]|&lt;)\s*(?:(?:private|internal)\s+)?(?:notes?|internal|private)\s*(?:[\])}:]|&gt;)",
    re.IGNORECASE,
)
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


def is_internal(text: str) -> bool:
    """True when any line of `text` (Slack-encoded) is a note line (see the module docstring)."""
    for line in _normalised(text).splitlines():
        if _LOCK.match(line) or _NOTE_LINE.match(line) or _TAG.search(line):
            return True
    return False


def _normalised(text: str) -> str:
    """Full-width letters as letters, invisible characters dropped, any space but a line break as " "."""
    return re.sub(r"[^\S\n]", " ", _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))
