"""One deadline per model call: a gateway that keeps the connection alive with whitespace or SSE
comments cannot hold a thread for ever, and an answer cut short by the server (or stopped by its
content filter) is never posted as if it were whole."""

from __future__ import annotations

import asyncio
import logging

import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient

from handlers.model import Conversation, Outcome, Turn
from sarah_model.openai_chat import OpenAIChatModel
from sarah_testing.openai_chat import FakeOpenAI, Filtered, KeepAlive, Truncated, Unfinished

CONVERSATION = Conversation(system="You are Sarah.", turns=(Turn("user", "my hub is offline"),))


def _model(base_url: str, timeout: float, retries: int = 0) -> OpenAIChatModel:
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url=base_url,
        timeout=timeout,
        max_retries=retries,
        http_client=DefaultAioHttpClient(),
    )
    return OpenAIChatModel(client, "gpt-4.1-mini-2025-04-14")


async def _shown(text: str) -> bool:
    return True


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_server_that_keeps_the_connection_alive_still_times_out(
    fake_openai: FakeOpenAI, streamed: bool
) -> None:
    fake_openai.responder = lambda request: KeepAlive()  # a byte every 0.05 s, for ever
    model = _model(fake_openai.base_url, timeout=0.5)
    try:
        call = model.reply_streaming(CONVERSATION, _shown) if streamed else model.reply(CONVERSATION)
        reply = await asyncio.wait_for(call, 10)  # without a deadline of its own the call never ends
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason) == (Outcome.UNAVAILABLE, "timeout")


async def test_the_deadline_counts_each_retry_apart(fake_openai: FakeOpenAI) -> None:
    model = _model(fake_openai.base_url, timeout=0.5, retries=2)
    try:
        assert model.deadline_seconds >= 3 * 0.5  # three tries, each with its MODEL_TIMEOUT_SECONDS
    finally:
        await model.aclose()


@pytest.mark.parametrize(
    ("answer", "streamed"),
    [
        (Truncated("To reset the hub, hold the button for"), False),
        (Truncated("To reset the hub, hold the button for"), True),
        (Unfinished(("To reset the hub, ", "hold the button for")), True),
    ],
    ids=["length-whole", "length-streamed", "stream-without-its-end"],
)
async def test_an_answer_cut_short_by_the_server_is_not_taken_as_whole(
    fake_openai: FakeOpenAI, answer: object, streamed: bool
) -> None:
    fake_openai.responder = lambda request: answer
    model = _model(fake_openai.base_url, timeout=5)
    try:
        reply = await (model.reply_streaming(CONVERSATION, _shown) if streamed else model.reply(CONVERSATION))
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason) == (Outcome.UNAVAILABLE, "truncated")


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_an_answer_stopped_by_the_content_filter_is_a_failed_call_and_its_text_is_not_logged(
    fake_openai: FakeOpenAI, streamed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    fragment = "To open the front door without the app, first"
    fake_openai.responder = lambda request: Filtered(fragment)
    model = _model(fake_openai.base_url, timeout=5)
    caplog.set_level(logging.DEBUG)
    try:
        reply = await (model.reply_streaming(CONVERSATION, _shown) if streamed else model.reply(CONVERSATION))
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason, reply.text) == (Outcome.UNAVAILABLE, "filtered", "")
    assert [r.__dict__.get("reason") for r in caplog.records if r.getMessage() == "model call failed"] == ["filtered"]
    assert not [r for r in caplog.records if "front door" in str(r.__dict__)]
