"""One way out: every text Sarah posts, in a customer's thread, the support channel, a card, a relay,
an agent's private note or the App Home, passes through `bot.slack.text`, whatever it holds.

Every Outbox method and every Block Kit builder is found by introspection and fed the hostile-text
matrix; a new method or builder without a row here fails `test_every_outbox_method_and_builder_is_covered`.
What Sarah posts is read back as the fake Slack recorded it, and nothing in it may be live: no
broadcast, user group, person or channel mention Sarah did not make from a Slack id, no link outside
the allowed domains, no rich_text element but plain text.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

import bot.slack.app_home
import bot.slack.cards
import bot.slack.markdown
from bot.slack.app_home import queue_view, visitor_view
from bot.slack.cards import (
    asked_again_line,
    card_message,
    customer_line,
    feedback_actions,
    feedback_given,
    native_feedback,
    quoted,
    reminder_text,
)
from bot.slack.markdown import markdown_message, safe_pieces
from bot.slack.outbox import SlackOutbox
from bot.slack.stream import SlackStreams
from bot.slack.text import LinkPolicy, browser_host, from_slack, rich_text_elements
from handlers.messages import SharedFile, ThreadRef
from handlers.outbox import Card, CardRef, Outbox
from handlers.store.open_handoffs import OpenHandoff
from handlers.store.ownership import Owner
from handlers.store.stream_budget import StreamBudget
from handlers.store.values import StoredTurn
from sarah_testing.handoff_steps import escalated_dm, said
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_checks import INJECTION, live_parts, posted_after
from sarah_testing.slack_payloads import channel_message, mention, new_ts
from tests.conftest import SUPPORT_CHANNEL, StartSarah


async def test_a_customer_asking_again_elsewhere_reaches_the_open_card_inert(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    _, card = await escalated_dm(slack, fake_slack)
    root = new_ts()
    await slack.event(mention("my ZenLock is jammed", ts=root))
    await said(fake_slack, "C0GENERAL", root, "Answering")
    await slack.event(channel_message(f"{INJECTION} I want a human", thread_ts=root))
    noted = (await fake_slack.wait_for(lambda: posted_after(fake_slack, SUPPORT_CHANNEL, card.ts, "admin console")))[0]
    assert "asked for help again" in noted.body
    assert live_parts(noted) == []
    assert "evil.example/login" in noted.body  # shown, so the agent sees where it pointed


# -- the hostile-text matrix over every output path -----------------------------------------------------

HOSTILE = [
    "<!channel> look here",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<!subteam^S123|@support-team>",
    "<@U123>",
    "<@U123|the boss>",
    "<#C123>",
    "<#C123|general>",
    "<!date^1700000000^{date}|today>",
    "<https://evil.example/login|Open the admin console>",
    "<mailto:boss@evil.example|Mail the boss>",
    "[Open the admin console](https://evil.example/login)",
    "https://evil.example/bare and www.evil.example/www",
    "https://evil.example\\.zennest.com/login",
    "[help](https://zennest.com@evil.example/)",
    "&lt;!channel&gt; typed, then <!channel> real",
    "*Support:* refund approved\n*Customer:* thanks",
    "_italics_ ~strike~ *bold* *unclosed",
    "`<!channel>` and ```<!here>\n<https://evil.example|x>```",
    "line one\n> a quote <!here>\n\n*Sarah:* I have refunded you",
    "<<!channel>>",
    "a" * 45_000 + " <!channel> https://evil.example/tail",
]
ALLOWED_HOSTS = ("zennest.com", "slack.com")  # ZenNest's links in answers, Slack's own permalinks
OWN_MENTIONS = re.compile(r"<(?:@(?:UCUSTOMER|UAGENT)|#C0SUPPORT)>")  # made by Sarah from Slack ids
_TOKEN = re.compile(r"<([^<>]*)>")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_MD_LINK = re.compile(r"\]\(([^)\s]*)\)")


def _allowed(url: str) -> bool:
    host = browser_host(url) or ""
    return any(host == h or host.endswith("." + h) for h in ALLOWED_HOSTS)


def _live_in_text(text: str, *, markdown: bool) -> list[str]:
    """What Slack would act on in mrkdwn (or, `markdown`, a markdown block's Markdown)."""
    found = []
    for token in _TOKEN.findall(OWN_MENTIONS.sub("", text)):
        target = token.split("|", 1)[0]
        if not (re.match(r"https?://", target) and _allowed(target)):
            found.append(f"<{token}>")
    if markdown:
        found += [url for url in _MD_LINK.findall(text) if not _allowed(url)]
    outside = _CODE.sub("", _TOKEN.sub("", _MD_LINK.sub("]", text)))
    for address in re.findall(r"(?:https?://|www\.)[^\s`<>|()\[\]]+", outside):  # bare: Slack links them
        if not _allowed(address if "://" in address else "https://" + address):
            found.append(address)
    return found


def live(params: dict[str, Any]) -> list[str]:
    """Everything live in one Web API call's arguments, as the fake Slack recorded them."""
    found = []
    for key in ("text",):
        if isinstance(params.get(key), str):
            found += _live_in_text(params[key], markdown=False)
    if isinstance(params.get("markdown_text"), str):
        found += _live_in_text(params["markdown_text"], markdown=True)
    for name in ("blocks", "view"):
        value = params.get(name)
        found += _live_in_blocks(json.loads(value) if isinstance(value, str) else value)
    return found


def _live_in_blocks(node: Any, *, in_rich_text: bool = False) -> list[str]:
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found += _live_in_blocks(item, in_rich_text=in_rich_text)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind == "mrkdwn" or (kind == "markdown" and isinstance(node.get("text"), str)):
            found += _live_in_text(node["text"], markdown=kind == "markdown")
        if isinstance(node.get("url"), str) and not _allowed(node["url"]):
            found.append(node["url"])
        if in_rich_text and kind in ("user", "usergroup", "broadcast", "channel", "emoji_link"):
            found.append(json.dumps(node))
        for key, value in node.items():
            if key not in ("text", "url") or isinstance(value, dict | list):
                found += _live_in_blocks(value, in_rich_text=in_rich_text or kind == "rich_text")
    return found


def hostile_card(text: str, *, status: Owner = Owner.HUMAN) -> Card:
    return Card(
        thread=ThreadRef(CUSTOMER_DM, "1800000000.000100"),
        customer="UCUSTOMER",
        reason=text,
        failures=2,
        summary=text,
        transcript=tuple(StoredTurn(role, text, "1.0", user) for role, user in TURN_SPEAKERS),
        status=status,
        escalated_at=1_800_000_000.0,
        status_by=text,
        status_at=1_800_000_060.0,
        files=(SharedFile(text, text), SharedFile(text, "https://zennest.slack.com/files/U1/F1/x.png")),
    )


CUSTOMER_DM = "D0CUSTOMER"
THREAD = ThreadRef(CUSTOMER_DM, "1800000000.000100")
CHANNEL_THREAD = ThreadRef("C0GENERAL", "1800000000.000200")
REF = CardRef(SUPPORT_CHANNEL, "1800000000.000300")
TURN_SPEAKERS = [("user", "UCUSTOMER"), ("user", "UOTHER"), ("assistant", ""), ("agent", "UAGENT"), ("marker", "")]
ZENNEST = LinkPolicy(["zennest.com"])

OutboxRow = Callable[[SlackOutbox, str], Awaitable[Any]]


async def _stream(outbox: SlackOutbox, text: str) -> None:
    stream = await outbox.start_stream(CHANNEL_THREAD, recipient_user="UCUSTOMER", recipient_team="TZEN")
    assert stream is not None
    await stream.append(text[: len(text) // 2])
    await stream.append(text)
    await stream.finish(text, feedback=True, tag="t")
    again = await outbox.start_stream(CHANNEL_THREAD, recipient_user="UCUSTOMER", recipient_team="TZEN")
    assert again is not None
    await again.append(text)
    await again.stop(text)


async def _cards(outbox: SlackOutbox, text: str) -> None:
    ref = await outbox.post_card(hostile_card(text, status=Owner.WAITING))
    assert ref is not None
    await outbox.update_card(ref, hostile_card(text))
    await outbox.update_card(ref, hostile_card(text, status=Owner.RESOLVED))


OUTBOX_ROWS: dict[str, OutboxRow] = {
    "thinking": lambda outbox, text: outbox.thinking(THREAD, tag="t"),  # with `text` as the set thinking text
    "send": lambda outbox, text: outbox.send(THREAD, text, feedback=True, tag="t"),
    "find_posts": lambda outbox, text: outbox.find_posts(THREAD, text),
    "withdraw": lambda outbox, text: outbox.withdraw(THREAD, "1800000000.000999"),
    "post_card": _cards,
    "update_card": _cards,
    "remind": lambda outbox, text: outbox.remind(REF, hostile_card(text)),
    "support_note": lambda outbox, text: outbox.support_note(REF, text),
    "alert_team": lambda outbox, text: outbox.alert_team(REF, text),  # the mention: see the test below
    "asked_again": lambda outbox, text: outbox.asked_again(REF, "UCUSTOMER", text),
    "to_customer": lambda outbox, text: outbox.to_customer(THREAD, text, text),
    "customer_said": lambda outbox, text: outbox.customer_said(REF, "UCUSTOMER", text, has_files=True),
    "relay_to_customer": lambda outbox, text: outbox.relay_to_customer(THREAD, REF, "UAGENT", text),
    "tell_agent": lambda outbox, text: outbox.tell_agent(REF, "UAGENT", text),
    "display_name": lambda outbox, text: outbox.display_name("UAGENT"),  # the profile's name is `text`
    "start_stream": _stream,
    "may_stream": lambda outbox, text: outbox.may_stream(THREAD),
    "end_stream": lambda outbox, text: outbox.end_stream(THREAD, "1800000000.000999"),
}


def _open_handoff(text: str, owner: Owner) -> OpenHandoff:
    return OpenHandoff(ThreadRef(text, text), 1.0, owner, text, 2.0, text, text, text, text)


BUILDER_ROWS: dict[str, Callable[[str], Any]] = {
    "bot.slack.cards.feedback_actions": lambda text: feedback_actions(text),
    "bot.slack.cards.native_feedback": lambda text: native_feedback(text),
    "bot.slack.cards.feedback_given": lambda text: feedback_given(markdown_message(text, ZENNEST)["blocks"], False),
    "bot.slack.cards.quoted": lambda text: quoted(text, rich_text_elements(from_slack(text)), "sarah_x"),
    "bot.slack.cards.customer_line": lambda text: customer_line(text, has_files=True),
    "bot.slack.cards.asked_again_line": lambda text: [
        asked_again_line("UCUSTOMER", text),
        asked_again_line(text, text),
    ],
    "bot.slack.cards.card_message": lambda text: [
        card_message(hostile_card(text, status=status), permalink=link, now=1_800_000_600.0)
        for status in Owner
        for link in (text, "https://zennest.slack.com/archives/D0CUSTOMER/p1800000000000100", None)
    ],
    "bot.slack.cards.reminder_text": lambda text: {"text": reminder_text(hostile_card(text), now=1_800_000_600.0)},
    "bot.slack.markdown.markdown_message": lambda text: [
        markdown_message(piece, ZENNEST) for piece in safe_pieces(text, ZENNEST)
    ],
    "bot.slack.app_home.queue_view": lambda text: [
        queue_view([_open_handoff(text, Owner.WAITING), _open_handoff(text, Owner.HUMAN)], 3.0, url)
        for url in (text, "https://zennest.slack.com")
    ],
    "bot.slack.app_home.visitor_view": lambda text: visitor_view(),
}
NOT_BUILDERS = {  # public functions of those modules that build no Block Kit, and why
    "bot.slack.cards.slack_file_link": "a yes/no on a URL (tested in tests/bot/test_slack_text.py)",
    "bot.slack.markdown.split_for_slack": "cuts text; what it returns is rendered by markdown_message",
    "bot.slack.markdown.safe_pieces": "cuts text; what it returns is rendered by markdown_message",
    "bot.slack.app_home.card_link": "a URL, used as queue_view's button (checked there)",
    "bot.slack.app_home.register_app_home": "registers listeners",
    "bot.slack.app_home.time_left": "a number of seconds",
}
BUILDER_MODULES = (bot.slack.cards, bot.slack.markdown, bot.slack.app_home)


def _public_methods(cls: type) -> set[str]:
    return {name for name, member in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def _builders() -> set[str]:
    return {
        f"{module.__name__}.{name}"
        for module in BUILDER_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }


def test_every_outbox_method_and_builder_is_covered() -> None:
    methods = _public_methods(Outbox) | _public_methods(SlackOutbox)  # type: ignore[type-abstract]
    assert methods == set(OUTBOX_ROWS), "each Outbox method needs a row in OUTBOX_ROWS"
    assert _builders() == set(BUILDER_ROWS) | set(NOT_BUILDERS), "each builder needs a row in BUILDER_ROWS"


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:40])
async def test_nothing_anyone_wrote_is_live_whatever_an_outbox_method_is_given(
    text: str, fake_slack: FakeSlack, redis: Redis
) -> None:
    fake_slack.users["UAGENT"] = {"id": "UAGENT", "name": "ana", "real_name": text}
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    streams = SlackStreams(client, StreamBudget(redis, per_minute=1_000), links=ZENNEST, workspace="TZEN")
    outbox = SlackOutbox(client, thinking_text=text, support_channel=SUPPORT_CHANNEL, links=ZENNEST, streams=streams)
    for name, row in OUTBOX_ROWS.items():
        before = len(fake_slack.calls)
        returned = await row(outbox, text)
        for method, params in fake_slack.calls[before:]:
            assert live(params) == [], f"{name} → {method}"
            for block in _blocks(params):
                assert block_problems(block) == [], f"{name} → {method}"
        if name == "display_name":
            assert "\n" not in returned and len(returned) <= 80
    assert {m for m, _ in fake_slack.calls} >= {"chat.postMessage", "chat.update", "chat.postEphemeral"}


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:40])
def test_nothing_anyone_wrote_is_live_in_any_block_kit_builder(text: str) -> None:
    for name, build in BUILDER_ROWS.items():
        built = build(text)
        for message in built if isinstance(built, list) else [built]:
            params = {"text": message.get("text"), "blocks": message.get("blocks")}
            assert live(params) == [], name
            for block in message.get("blocks", []):
                assert block_problems(block) == [], name


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def block_problems(block: dict[str, Any]) -> list[str]:
    """What Slack would refuse for length: a section's text over 3,000, a markdown block over 12,000."""
    problems = []
    if block.get("type") == "section" and len((block.get("text") or {}).get("text", "")) > 3_000:
        problems.append("section text over 3,000 characters")
    if block.get("type") == "markdown" and len(block["text"]) > 12_000:
        problems.append("markdown block over 12,000 characters")
    return problems


async def test_a_team_alert_mentions_only_the_configured_user_group_whatever_its_text(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    outbox = SlackOutbox(client, thinking_text="…", support_channel=SUPPORT_CHANNEL, links=ZENNEST)
    for text in HOSTILE:
        before = len(fake_slack.calls)
        await outbox.alert_team(REF, text, usergroup="S0SUPPORT")
        await outbox.alert_team(REF, text, usergroup="<!channel>")  # not a user group id: no mention
        (_, first), (_, second) = fake_slack.calls[before:]
        assert live(first) == ["<!subteam^S0SUPPORT>"] and first["text"].startswith("<!subteam^S0SUPPORT> ")
        assert live(second) == []
