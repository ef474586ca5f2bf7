"""A fake OpenAI chat-completions server over real HTTP, scripted by the test.

`responder(request_json)` returns what the model "says": a string (an answer), a `ToolCall`
(the hand-off), an `HttpError` (the server fails), or a `Delay` or `Hold` wrapping any of those. The default
answers with a line naming every customer message it was given, so a test can see what the model saw.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.server import LocalServer


@dataclass(frozen=True)
class ToolCall:
    reason: str = "unknown_answer"
    summary: str = "The customer needs help Sarah cannot give."


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str = "server_error"


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Any


@dataclass(frozen=True)
class Hold:
    """Answer `then` only once the test sets `until` (a reply held while the test changes the world)."""

    until: asyncio.Event
    then: Any


def user_lines(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def echo_responder(request: dict[str, Any]) -> Any:
    return "Answering: " + " | ".join(user_lines(request))


class FakeOpenAI(LocalServer):
    def __init__(self, responder: Callable[[dict[str, Any]], Any] = echo_responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.models: dict[str, dict[str, Any]] = {}  # GET /v1/models/{id}; unknown ids answer 404
        self.in_flight = 0
        self.most_in_flight = 0  # the most chat requests open at the same time
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models/{model}", self._model)
        super().__init__(app)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    async def _model(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if model not in self.models:
            return web.json_response({"error": {"message": "no such model", "code": "model_not_found"}}, status=404)
        return web.json_response(
            {"id": model, "object": "model", "created": 0, "owned_by": "zennest", **self.models[model]}
        )

    async def _completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            result = self.responder(body)
            while isinstance(result, Delay | Hold):
                if isinstance(result, Hold):
                    await result.until.wait()
                else:
                    await asyncio.sleep(result.seconds)
                result = result.then
        finally:
            self.in_flight -= 1
        if isinstance(result, HttpError):
            return web.json_response(
                {"error": {"message": "fake failure", "type": "server_error", "code": result.code}},
                status=result.status,
            )
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if isinstance(result, ToolCall):
            finish = "tool_calls"
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {
                        "name": "handoff_to_human",
                        "arguments": json.dumps({"reason": result.reason, "summary": result.summary}),
                    },
                }
            ]
        else:
            message["content"] = str(result)
        return web.json_response(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )
