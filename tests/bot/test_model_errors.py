"""What a failed model call is called in the logs: an operator must tell "down" from "slow"."""

from __future__ import annotations

import socket

import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient

from handlers.model import Conversation, Outcome, Turn
from sarah_model.openai_chat import OpenAIChatModel
from sarah_testing.openai_chat import Delay, FakeOpenAI, HttpError

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
