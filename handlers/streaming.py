"""What the pipeline needs to stream an answer while the model writes it (see handlers/pipeline.py).

Decisions, and why:
- Only complete sentences are shown (`ready_text`), at least `MIN_APPEND_CHARS` new characters at a
  time: each one is checked for claimed actions (handlers/claims.py) BEFORE it is appended. The first
  sentence with a claim is never shown; the stream stops there and the message is replaced by
  TEXT_CLAIMED_ACTION, exactly what the one-message path sends (and it counts as a failure).
- A short answer (under `MIN_APPEND_CHARS` in all) is never streamed: it goes out as one message and
  spends no streaming budget.
- The stream starts only when the draft will be kept: a draft overtaken by new messages before its
  first sentence is dropped and redrafted (nothing was shown); once a draft is shown it is finished,
  and messages that came meanwhile get the next answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.outbox import AnswerStream

# slack-sdk's chat_stream() buffers as much by default: a 2,000-character answer takes about 8
# appends, so 8 streamed answers a minute stay under chat.appendStream's Tier 4 (100+ a minute).
MIN_APPEND_CHARS = 256
_SENTENCE_END = re.compile(r"(?:[.!?…:;)](?=\s)|\n)")


@dataclass
class Live:
    """One pass's streaming state (never shared between passes)."""

    stream: AnswerStream | None = None
    shown: str = ""  # the text given to the stream so far (complete sentences)
    one_message: bool = False  # not streaming (any more): the finished answer is sent or replaces it
    claimed: bool = False  # a sentence claimed an action: nothing more is shown
    abandoned: bool = False  # new messages came before anything was shown: redraft
    cut_short: bool = False  # people took the thread, or the lease moved on, while streaming


def ready_text(text: str, shown: str) -> str | None:
    """The prefix of `text` that ends with a complete sentence, when it adds at least
    `MIN_APPEND_CHARS` to `shown`; None when there is nothing worth showing yet."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends:
        return None
    ready = text[: ends[-1]]
    if ready.count("```") % 2:  # inside a code block: show it when the block is closed
        ready = ready[: ready.rfind("```")]
    if len(ready) - len(shown) < MIN_APPEND_CHARS or not ready.startswith(shown):
        return None
    return ready
