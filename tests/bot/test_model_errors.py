"""What a failed model call is called in the logs: an operator must tell "down" from "slow"."""

from __future__ import annotations

import socket

import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient

from handlers.model import Conversation, Outcome, Turn
from sarah_model.openai_chat import OpenAIChatModel
from sarah_testing.openai_chat import Delay, FakeOpenAI, HttpError, Raw

CONVERSATION = Conversation(system="You are Sarah.", turns=(Turn("user", "hello"),))


def _model(base_url: str, timeout: float = 5) -> OpenAIChatModel:
    client = AsyncOpenAI(
        api_key="sk-test", base_url=base_url, timeout=timeout, max_retries=0, http_client=DefaultAioHttpClient()
    )
    return OpenAIChatModel(client, "gpt-4.1-mini-2025-04-14")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket is closed


async def test_a_refused_connection_is_unreachable_not_a_timeout() -> None:
    model = _model(f"http://127.0.0.1:{_closed_port()}/v1")
    try:
        reply = await model.reply(CONVERSATION)
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason) == (Outcome.UNAVAILABLE, "unreachable")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Delay(2, "too late"), "timeout"),
        (HttpError(429, "rate_limit_exceeded"), "rate_limited"),
        (HttpError(503), "server_error"),
    ],
)
async def test_slow_busy_and_failing_servers_have_their_own_reason(
    fake_openai: FakeOpenAI, answer: object, reason: str
) -> None:
    fake_openai.responder = lambda request: answer
    model = _model(fake_openai.base_url, timeout=0.5)
    try:
        reply = await model.reply(CONVERSATION)
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason) == (Outcome.UNAVAILABLE, reason)


def _completion(message: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (["not", "an", "object"], "no_choices"),
        ({"choices": "all of them"}, "no_choices"),
        ({"choices": []}, "no_choices"),
        (_completion(None), "empty"),
        (_completion({"role": "assistant", "content": 42}), "empty"),
        (_completion({"role": "assistant", "content": "  ", "tool_calls": ["garbage", {"function": 7}]}), "empty"),
        (_completion({"role": "assistant", "content": "  ", "tool_calls": 7}), "empty"),
    ],
)
async def test_a_completion_of_the_wrong_shape_is_a_failed_call_not_a_crash(
    fake_openai: FakeOpenAI, body: object, reason: str
) -> None:
    """Sarah reads the completion's JSON herself: whatever an OpenAI-compatible server sends back,
    the customer gets the apology (and the failure counts), never a crashed pass."""
    fake_openai.responder = lambda request: Raw(body)
    model = _model(fake_openai.base_url)
    try:
        reply = await model.reply(CONVERSATION)
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason) == (Outcome.UNAVAILABLE, reason)


async def test_a_hand_off_call_among_odd_tool_calls_is_still_a_hand_off(fake_openai: FakeOpenAI) -> None:
    call = {
        "function": {
            "name": "handoff_to_human",
            "arguments": '{"reason": "customer_asked", "summary": "wants a person"}',
        }
    }
    fake_openai.responder = lambda request: Raw(
        _completion({"role": "assistant", "content": None, "tool_calls": [None, call]})
    )
    model = _model(fake_openai.base_url)
    try:
        reply = await model.reply(CONVERSATION)
    finally:
        await model.aclose()
    assert (reply.outcome, reply.reason, reply.summary) == (Outcome.HANDOFF, "customer_asked", "wants a person")
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 0}
