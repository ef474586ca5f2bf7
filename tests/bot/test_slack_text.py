"""The one place that turns other people's text into Slack output, row by row (pure functions)."""

from __future__ import annotations

import pytest

from bot.slack.cards import slack_file_link
from bot.slack.text import (
    WORD_JOINER,
    LinkPolicy,
    from_slack,
    model_fallback,
    model_markdown,
    people_mrkdwn,
    rich_text_elements,
    user_mention,
)
from handlers.notes import is_internal

ZENNEST = LinkPolicy(["zennest.com", "help.zennest.com"])


@pytest.mark.parametrize(
    ("slack_text", "shown"),
    [
        ("<!channel> hi", f"@{WORD_JOINER}channel hi"),
        ("<!here|here>", f"@{WORD_JOINER}here"),
        ("<!everyone>", f"@{WORD_JOINER}everyone"),
        ("<!subteam^S0TEAM|@support>", f"@{WORD_JOINER}support"),
        ("<@U0CEO>", f"@{WORD_JOINER}U0CEO"),
        (
            "<https://evil.example/login|Open the admin console>",
            "Open the admin console (`https://evil.example/login`)",
        ),
        ("see https://evil.example/x.", "see `https://evil.example/x`."),
        ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),  # a typed `<` stays a shown `<`, escaped once
        ("*bold* and _italic_", "*bold* and _italic_"),
    ],
)
def test_customer_and_agent_text_keeps_its_words_and_loses_its_power(slack_text: str, shown: str) -> None:
    assert people_mrkdwn(slack_text) == shown


@pytest.mark.parametrize(
    ("answer", "block"),
    [
        ("[guide](https://help.zennest.com/a)", "[guide](https://help.zennest.com/a)"),
        ("[guide](https://shop.zennest.com/a)", "[guide](https://shop.zennest.com/a)"),  # a subdomain
        ("[guide](https://zennest.com.evil.example/a)", "guide (`https://zennest.com.evil.example/a`)"),
        ("[guide](https://user@evil.example/a)", "guide (`https://user@evil.example/a`)"),
        ("[https://evil.example](https://zennest.com)", "[https://zennest.com](https://zennest.com)"),
        ("<https://zennest.com/x|ZenNest>", "[ZenNest](https://zennest.com/x)"),
        ("`<!channel>`", "`&lt;!channel&gt;`"),
        ("> a quote\nx > y", "> a quote\nx &gt; y"),
    ],
)
def test_model_answers_keep_markdown_and_only_allowed_links(answer: str, block: str) -> None:
    assert model_markdown(answer, ZENNEST) == block


def test_the_fallback_is_cut_without_breaking_an_entity() -> None:
    fallback = model_fallback("a" * 297 + "<<<<", 300)
    assert fallback.endswith("a…") and len(fallback) <= 300


def test_rich_text_holds_only_plain_text_elements() -> None:
    elements = rich_text_elements(from_slack("<!channel> <https://evil.example|x>\n*Support:* ok"))
    assert {e["type"] for e in elements} == {"text"}
    assert any(e.get("style") == {"code": True} and e["text"] == "https://evil.example" for e in elements)


@pytest.mark.parametrize(
    "text",
    ["note: x", "*note:* x", "_note_: x", "Note - x", "NOTE x", "internal: x", "ok\n  notes: x", "&gt; [note] x"],
)
def test_every_common_spelling_of_a_note_is_internal(text: str) -> None:
    assert is_internal(text)


@pytest.mark.parametrize("text", ["Your notebook app is fine", "I noted your order number", "Internals are sealed"])
def test_ordinary_lines_are_not_notes(text: str) -> None:
    assert not is_internal(text)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\.zennest.com/login",  # a browser reads the backslash as a slash
        "https://evil.example\\@zennest.com/login",
        "https://zennest.com@evil.example/login",  # userinfo: the host is evil.example
        "https://zennest.com:x@evil.example/",
        "https://evil.example%2Fzennest.com/",  # percent-encoding decoded before the check
        "https://evil.example%5C.zennest.com/",
        "https://evil.example#.zennest.com",
        "https://evil.example?.zennest.com",
        "https://zennest.com\t@evil.example/",  # browsers drop tabs and newlines anywhere in a URL
        "https://zennest.com.evil.example./",
        "https://zennest\u3002com.evil.example/",  # an ideographic full stop is a dot to IDNA
        "https://zenn\u0435st.com/",  # a Cyrillic "е": another domain (xn--…)
        "javascript://zennest.com/%0aalert(1)",
        "https://[::1]/zennest.com",
        "https://",
        # parsers disagree on these: shown as text rather than trusting any one of them
        "https://zennest.com\\support",
        "https://help%2Ezennest.com/reset",
        "https://help\u3002zennest.com/reset",
    ],
)
def test_a_link_is_live_only_when_a_browser_would_open_an_allowed_host(url: str) -> None:
    assert not ZENNEST.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://zennest.com/",
        "https://help.zennest.com./reset",  # a trailing dot names the same host
        "HTTPS://Help.ZenNest.COM/reset",
        "https://shop.zennest.com:443/x?y=1#z",
        "https://zennest.com/a\\b",  # a backslash after the host is part of the path
    ],
)
def test_allowed_hosts_stay_live(url: str) -> None:
    assert ZENNEST.allows(url)


def test_a_backslash_host_is_shown_as_an_address_not_linked() -> None:
    block = model_markdown("[help](https://evil.example\\.zennest.com/login)", ZENNEST)
    assert "](" not in block and "`https://evil.example\\.zennest.com/login`" in block


def test_a_shared_files_link_is_kept_only_for_slacks_own_host() -> None:
    assert slack_file_link("https://zennest.slack.com/files/U1/F1/photo.jpg")
    assert not slack_file_link("https://evil.example\\.slack.com/files/U1/F1/photo.jpg")


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("U0123ABCD", "<@U0123ABCD>"),
        ("W0123456789", "<@W0123456789>"),  # an Enterprise Grid id, 11 characters
        ("U0123ABCD\n", "an unknown user"),  # a line break would end the mention early
        ("U0123ABCD|ceo", "an unknown user"),
        ("u0123abcd", "an unknown user"),
        ("U" + "A" * 21, "an unknown user"),  # longer than any Slack id
    ],
)
def test_only_a_slack_user_id_becomes_a_mention(user: str, shown: str) -> None:
    assert user_mention(user) == shown
