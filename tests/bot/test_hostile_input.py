"""Input that must not freeze, poison or crash Sarah, sent over real HTTP as Slack would.

Each message is answered once (or refused cleanly) while another conversation goes on as usual.
"""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from bot.runtime import Sarah
from handlers.text_clean import CUT_MARKER
from sarah_testing.openai_chat import FakeOpenAI, user_lines
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import SlackSender, dm, envelope, new_ts, signed_headers
from tests.conftest import StartSarah

CJK = "智能家居设备连接问题"


async def _answers(fake_slack: FakeSlack, channel: str, ts: str) -> list[str]:
    await fake_slack.wait_for(
        lambda: any("Answering" in m.body and not m.streaming for m in fake_slack.thread(channel, ts))
    )
    return [m.body for m in fake_slack.thread(channel, ts)]


async def _healthz(sarah: Sarah) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{sarah.http_port}/healthz") as r:
        return r.status


async def _post_raw(slack: SlackSender, body: str, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(slack.url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def test_a_40k_character_dm_is_cut_answered_once_and_the_customer_told_while_others_are_answered(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    sarah, slack = await start_sarah()
    long_ts, other_ts = new_ts(), new_ts()
    assert await slack.event(dm("A" * 40_000, ts=long_ts)) == 200
    assert await slack.event(dm("is my ZenHub online?", ts=other_ts, channel="D0OTHER", user="UOTHER")) == 200
    assert await _healthz(sarah) == 200

    assert await _answers(fake_slack, "D0OTHER", other_ts) == ["Answering: is my ZenHub online?"]
    [answer] = await _answers(fake_slack, "D0CUSTOMER", long_ts)
    assert "only its first 8,000 characters" in answer
    [seen] = [user_lines(r)[0] for r in fake_openai.requests if user_lines(r)[0].startswith("AAA")]
    assert len(seen) <= 8_000 and seen.endswith(CUT_MARKER)


async def test_8000_cjk_characters_without_spaces_reach_the_model_whole(
    start_sarah: StartSarah, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    _, slack = await start_sarah()
    ts, other_ts = new_ts(), new_ts()
    await slack.event(dm(CJK * 800, ts=ts))
    await slack.event(dm("hello", ts=other_ts, channel="D0OTHER", user="UOTHER"))
    assert await _answers(fake_slack, "D0OTHER", other_ts) == ["Answering: hello"]
    [answer] = await _answers(fake_slack, "D0CUSTOMER", ts)
    assert answer == "Answering: " + CJK * 800


@pytest.mark.parametrize("text", ["hello\ud800 world", "hello\x00 world\x07"])
async def test_text_that_cannot_be_encoded_is_cleaned_and_answered_once(
    start_sarah: StartSarah, fake_slack: FakeSlack, text: str
) -> None:
    _, slack = await start_sarah()
    ts = new_ts()
    assert await slack.event(dm(text, ts=ts)) == 200
    assert await _answers(fake_slack, "D0CUSTOMER", ts) == ["Answering: hello world"]


async def test_a_body_over_1_mb_is_refused_with_413_and_sarah_goes_on(
    start_sarah: StartSarah, fake_slack: FakeSlack
) -> None:
    _, slack = await start_sarah()
    body = json.dumps(envelope(dm("B" * 1_100_000)))
    assert await _post_raw(slack, body, signed_headers(body)) == 413
    ts = new_ts()
    await slack.event(dm("still there?", ts=ts))
    assert await _answers(fake_slack, "D0CUSTOMER", ts) == ["Answering: still there?"]


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "event_callback", "event": ',  # cut off
        json.dumps({**envelope(dm("hi")), "event": "a string, not an object"}),
        json.dumps(["a", "list"]),
        json.dumps(envelope(dm("hi", subtype=["not", "a", "string"]))),
        json.dumps(envelope(dm({"text": "an object"}))),  # type: ignore[arg-type]
    ],
)
async def test_a_malformed_body_is_a_400_with_one_short_log_line(
    start_sarah: StartSarah, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    _, slack = await start_sarah()
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert await _post_raw(slack, body, signed_headers(body)) == 400
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "malformed" in lines[0] and len(lines[0]) < 200
    assert not any(r.exc_info for r in caplog.records)


async def test_a_malformed_form_payload_is_a_400(start_sarah: StartSarah) -> None:
    _, slack = await start_sarah()
    body = "payload=%7Bnot+json"
    headers = {**signed_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    assert await _post_raw(slack, body, headers) == 400


async def test_a_bad_signature_is_a_401_and_the_body_never_reaches_the_logs(
    start_sarah: StartSarah, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    _, slack = await start_sarah()
    with caplog.at_level(logging.DEBUG):
        status = await slack.event(dm("my door code is 4711-SECRET"), secret="not-the-signing-secret")
    assert status == 401
    assert not any("4711-SECRET" in r.getMessage() for r in caplog.records)
    assert any("signature" in r.getMessage() for r in caplog.records)
    assert not fake_slack.calls_to("chat.postMessage")


@pytest.mark.parametrize("timestamp", [None, "", "yesterday"])
async def test_a_missing_or_unreadable_timestamp_is_a_401_not_a_500(
    start_sarah: StartSarah, timestamp: str | None
) -> None:
    _, slack = await start_sarah()
    body = json.dumps(envelope(dm("hi")))
    headers = signed_headers(body)
    del headers["X-Slack-Request-Timestamp"]
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    assert await _post_raw(slack, body, headers) == 401
