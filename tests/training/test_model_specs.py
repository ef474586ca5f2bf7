"""Each model spec of `sarah train evaluate` carries its own base URL and key: no key goes where it was not meant."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from config.training import load_training_settings
from handlers.model import Conversation, Turn
from sarah_testing.openai_chat import FakeOpenAI
from training.model_specs import OPENAI_API_URL, SpecError, build_model, parse_spec, with_credentials

OPENAI_KEY = "sk-openai-secret"


class HeaderRecordingOpenAI(FakeOpenAI):
    """The fake OpenAI server, also keeping the Authorization header of every chat request."""

    def __init__(self) -> None:
        super().__init__()
        self.authorizations: list[str | None] = []

    async def completions(self, request: web.Request) -> web.StreamResponse:
        self.authorizations.append(request.headers.get("Authorization"))
        return await super().completions(request)


@pytest.fixture
async def recording_server() -> Any:
    server = HeaderRecordingOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def test_an_openai_spec_goes_to_openai_even_when_openai_base_url_points_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")  # the bot's vLLM server
    spec = with_credentials(parse_spec("openai:gpt-4.1-mini-2025-04-14"), load_training_settings(None))
    assert spec.base_url == OPENAI_API_URL == "https://api.openai.com/v1"
    assert spec.api_key is not None and spec.api_key.get_secret_value() == OPENAI_KEY
    closers: list[Any] = []
    model = build_model(spec, load_training_settings(None), closers)
    assert str(model.client.base_url).rstrip("/") == "https://api.openai.com/v1"  # type: ignore[attr-defined]


def test_an_openai_spec_without_a_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")  # no longer a way around the key
    with pytest.raises(SpecError, match="openai:gpt-4o needs OPENAI_API_KEY"):
        build_model(parse_spec("openai:gpt-4o"), load_training_settings(None), [])


async def test_a_url_spec_never_receives_the_openai_key(
    recording_server: HeaderRecordingOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    await _ask(f"url:{recording_server.base_url}#sarah")
    monkeypatch.setenv("URL_API_KEY", "vllm-key")
    await _ask(f"url:{recording_server.base_url}#sarah")
    assert recording_server.authorizations[0] is None or OPENAI_KEY not in recording_server.authorizations[0]
    assert recording_server.authorizations[1] == "Bearer vllm-key"
    assert all(OPENAI_KEY not in (header or "") for header in recording_server.authorizations)


async def _ask(spec: str) -> None:
    closers: list[Any] = []
    model = build_model(parse_spec(spec), load_training_settings(None), closers)
    try:
        await model.reply(Conversation(system="s", turns=(Turn("user", "hello"),)))
    finally:
        for close in closers:
            await close()
