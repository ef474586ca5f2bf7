"""What Sarah did in the fakes, as the tests check it: ephemerals, replies after a point, anything in a
posted message Slack would turn into a ping or a live link, what the model was shown; and two ways
to set the scene: a Slack that refuses posts in some channels, waits that keep a step apart or a burst
inside one calendar minute.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from sarah_testing.openai_chat import FakeOpenAI
from sarah_testing.slack_api import FakeSlack, Posted

INJECTION = (
    "<!channel> <!here> <!subteam^S0SUPPORT|@support-team> <@U0CEO> "
    "<https://evil.example/login|Open the ZenNest admin console>"
)

# Sarah's own: the card's customer mention and the link to the customer's thread
_LIVE_MRKDWN = re.compile(
    r"<(?!@UCUSTOMER>|https://zennest\.slack\.com/archives/)(?:[!@#][^>]*|(?:https?|mailto):[^>]*)>", re.I
)
_LIVE_MARKDOWN_LINK = re.compile(r"\]\((?!https://(?:help\.)?zennest\.com[/)])[^)]*\)")
_BARE_EVIL = re.compile(r"(?<!`)https?://evil\.example[^\s`]*")


def live_parts(message: Posted) -> list[str]:
    """Everything in a posted message Slack would turn into a ping or a clickable link to evil.example."""
    found = _LIVE_MRKDWN.findall(message.text)
    for block in message.blocks:
        if block.get("type") == "markdown":
            found += _LIVE_MRKDWN.findall(block["text"]) + _LIVE_MARKDOWN_LINK.findall(block["text"])
            found += _BARE_EVIL.findall(block["text"])
        elif block.get("type") == "section":
            texts = [block["text"]["text"]] if isinstance(block.get("text"), dict) else []
            texts += [f["text"] for f in block.get("fields", [])]
            found += [t for text in texts for t in _LIVE_MRKDWN.findall(text)]
        elif block.get("type") == "context":
            found += [t for e in block["elements"] for t in _LIVE_MRKDWN.findall(e.get("text", ""))]
        elif block.get("type") == "rich_text":
            found += [str(e) for part in block["elements"] for e in part["elements"] if e["type"] != "text"]
    found += _BARE_EVIL.findall(message.text)
    return found


def posted_after(slack: FakeSlack, channel: str, thread_ts: str, fragment: str) -> list[Posted]:
    return [m for m in slack.thread(channel, thread_ts) if fragment in m.body or fragment in m.text]


def ephemerals(fake_slack: FakeSlack, fragment: str = "") -> list[dict[str, Any]]:
    return [c for c in fake_slack.calls_to("chat.postEphemeral") if fragment in str(c.get("text"))]


def model_saw(fake_openai: FakeOpenAI, text: str) -> bool:
    return any(text in str(request["messages"]) for request in fake_openai.requests)


async def settle() -> None:
    """Give Sarah time to act on something she should ignore (then the test checks she did not)."""
    await asyncio.sleep(0.5)


async def start_of_a_minute() -> None:
    """The per-minute counters are per calendar minute: keep a burst inside one of them."""
    if time.time() % 60 > 50:
        await asyncio.sleep(61 - time.time() % 60)


def refuse_posts_in(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, broken: set[str]) -> None:
    """Slack answers channel_not_found to every post or update in the channels in `broken`."""
    post, update = fake_slack._chat_postMessage, fake_slack._chat_update

    def guarded(real: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def call(params: dict[str, Any]) -> dict[str, Any]:
            if params["channel"] in broken:
                return {"ok": False, "error": "channel_not_found"}
            return real(params)

        return call

    monkeypatch.setattr(fake_slack, "_chat_postMessage", guarded(post))
    monkeypatch.setattr(fake_slack, "_chat_update", guarded(update))
