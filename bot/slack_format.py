"""Shape Sarah's Markdown for Slack: `markdown` blocks, split to fit Slack's limits.

Slack renders real Markdown in a `markdown` block (up to 12,000 characters; several in one message
fail past ~13,000 in all), which converts better than any Markdown→mrkdwn library. A longer reply
becomes several messages, split at paragraph, then line, then word boundaries, in order.
"""

from __future__ import annotations

from typing import Any

MARKDOWN_BLOCK_LIMIT = 12_000
NOTIFICATION_PREVIEW = 300  # the `text` beside blocks: shown in notifications only


def split_for_slack(text: str, limit: int = MARKDOWN_BLOCK_LIMIT) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, preferring natural boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def markdown_message(text: str) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update carrying `text` as one markdown block."""
    preview = text if len(text) <= NOTIFICATION_PREVIEW else text[: NOTIFICATION_PREVIEW - 1] + "…"
    return {"text": preview, "blocks": [{"type": "markdown", "text": text}]}
