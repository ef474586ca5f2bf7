"""Shape Sarah's Markdown for Slack: `markdown` blocks, made safe and split to fit Slack's limits.

Slack renders real Markdown in a `markdown` block (up to 12,000 characters; several in one message
fail past ~13,000 in all), which converts better than any Markdown→mrkdwn library. A longer reply
becomes several messages, split at paragraph, then line, then word boundaries, in order.
"""

from __future__ import annotations

from typing import Any

from bot.slack.text import NO_LINKS, LinkPolicy, model_fallback, model_markdown

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


def markdown_message(text: str, links: LinkPolicy = NO_LINKS) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update carrying Sarah's `text` (the model's
    Markdown, or one of her set texts) as one markdown block, made safe by `bot.slack.text`: no
    mention is live, only `links`-allowed links are; the `text` fallback is escaped mrkdwn."""
    return {
        "text": model_fallback(text, NOTIFICATION_PREVIEW),
        "blocks": [{"type": "markdown", "text": model_markdown(text, links)}],
    }


def safe_pieces(text: str, links: LinkPolicy = NO_LINKS, limit: int = MARKDOWN_BLOCK_LIMIT) -> list[str]:
    """`text` split so that each piece still fits one markdown block once escaped (escaping can
    make a piece longer: `<` becomes `&lt;`)."""
    pieces: list[str] = []
    for piece in split_for_slack(text, limit):
        if len(model_markdown(piece, links)) > MARKDOWN_BLOCK_LIMIT and limit > 500:
            pieces.extend(safe_pieces(piece, links, limit // 2))
        else:
            pieces.append(piece)
    return pieces
