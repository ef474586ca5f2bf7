"""A customer's screenshot or log is linked on the hand-off card (never downloaded); they are told so."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from sarah_testing.handoff_steps import cards
from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import channel_message, dm, mention, new_ts
from tests.conftest import StartSarah

CHANNEL = "C0GENERAL"
TOLD = "they'll see a link to what you shared"


def shared(name: str, permalink: str) -> dict[str, Any]:
    """A file object as Slack puts it in a message event (with files:read)."""
    return {
        "id": "F0123",
        "name": name,
        "title": name,
        "mimetype": "image/png",
        "filetype": "png",
        "size": 48213,
        "url_private": "https://files.slack.com/files-pri/TZEN-F0123/" + name,
        "permalink": permalink,
    }


def file_elements(card: Posted) -> list[dict[str, Any]]:
    block = next(b for b in card.blocks if b.get("block_id") == "sarah_files")
    quote = next(e for e in block["elements"] if e["type"] == "rich_text_quote")
    return [e for e in quote["elements"] if e["type"] != "text" or e["text"] != "\n"]


async def test_a_shared_screenshot_is_linked_on_the_card_and_the_customer_is_told(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI, redis: Redis
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    event = mention("my lobby camera is offline, screenshot attached", ts=root)
    event["files"] = [
        shared("lobby-cam.png", "https://zennest.slack.com/files/UCUSTOMER/F0123/lobby-cam.png"),
        shared("<!channel> *urgent* log.txt", "https://evil.example/files/log.txt"),
    ]
    await slack.event(event)
    answer = (await fake_slack.wait_for(lambda: [m for m in fake_slack.thread(CHANNEL, root) if TOLD in m.body]))[0]
    assert "Answering" in answer.body
    assert "attached a file" in user_lines(fake_openai.requests[0])[-1]  # the model knows it cannot see it

    await slack.event(channel_message("I want a human", thread_ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    first, second = file_elements(card)
    assert first == {
        "type": "link",
        "url": "https://zennest.slack.com/files/UCUSTOMER/F0123/lobby-cam.png",
        "text": "lobby-cam.png",
    }
    # a name is shown as written, inert; a link that is not Slack's own file page is not linked
    assert second == {"type": "text", "text": "<!channel> *urgent* log.txt"}
    assert not [name for name, _ in fake_slack.calls if name.startswith("files.")]  # nothing downloaded
    stored = json.loads((await redis.hget(f"sarah:{{{CHANNEL}:{root}}}:state", "files")) or b"[]")
    assert {tuple(sorted(f)) for f in stored} == {("name", "permalink")}


async def test_a_file_shared_in_a_dm_says_on_the_card_who_can_open_it(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    root = new_ts()
    event = dm("", ts=root, subtype="file_share")
    event["files"] = [shared("hub-log.txt", "https://zennest.slack.com/files/UCUSTOMER/F0124/hub-log.txt")]
    await slack.event(event)
    reply = (await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("D0CUSTOMER", root) if TOLD in m.body]))[0]
    assert "Thanks for the file" in reply.body and fake_openai.requests == []
    await slack.event(dm("talk to a person please", ts=new_ts()))  # the same DM conversation
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    assert [e["text"] for e in file_elements(card)] == ["hub-log.txt"]
    assert "Slack opens these only for people in that DM" in card.body
