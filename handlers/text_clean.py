"""Make text from Slack safe to store, encode and prompt: one function, applied at the ingress.

Slack's JSON may carry what a Python `str` holds but UTF-8 cannot encode (a lone surrogate such as
`\\ud800`, which made every Redis write and every pass raise `UnicodeEncodeError`), and control
characters (NUL, escape sequences) that no customer means to send. Both are removed here, before
the text reaches Redis, so a message can never poison a pass. Newlines and tabs are kept; `\\r\\n`
and `\\r` become `\\n`.

The length cap keeps a single message from filling Redis or the prompt: what is over
`max_chars` is cut off with a marker the model (and a support agent reading the transcript) sees,
the same way `handlers/context.py` marks a message cut for the token budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CUT_MARKER = "\n[… the rest of this message was cut: it was too long for Sarah to read in full …]"

# C0 controls but \t and \n, DEL, C1 controls, and every surrogate code point (a valid str holds
# surrogates only unpaired: pairs are decoded to one code point by json.loads).
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class CleanText:
    text: str
    cut_from: int = 0  # the cleaned text's length before the cap, when it was cut; else 0

    @property
    def was_cut(self) -> bool:
        return self.cut_from > 0


def clean(text: str) -> str:
    """`text` without what cannot be encoded or is not meant to be read (see the module docstring)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub("", text)


def clean_and_cap(text: str, max_chars: int) -> CleanText:
    """Cleaned `text`, cut to at most `max_chars` characters (marker included) when longer."""
    text = clean(text)
    if len(text) <= max_chars:
        return CleanText(text)
    keep = max(max_chars - len(CUT_MARKER), 0)
    return CleanText(text[:keep].rstrip() + CUT_MARKER, cut_from=len(text))
