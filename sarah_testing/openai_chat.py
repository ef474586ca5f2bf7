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

from sarah_testing.server import LocalServer


@dataclass(frozen=True)
class ToolCall:
    reason: str = "unknown_answer"
    summary: str = "The customer needs help Sarah cannot give."


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str = "server_error"


@dataclass(frozen=True)
class Raw:
    """A reply body sent as is (JSON, status 200): what a buggy OpenAI-compatible server might send."""

    body: Any


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Any


@dataclass(frozen=True)
class Streamed:
    """An answer sent in pieces when the request asks for `stream: true`: each str is one text
    delta, a `ToolCall` is sent as tool-call deltas, an `asyncio.Event` is waited for (so a test can
    act while the answer is half written), a float is a pause in seconds. Without `stream` the
    pieces are joined into one answer."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Hold:
    """Answer `then` only once the test sets `until` (a reply held while the test changes the world)."""

    until: asyncio.Event
    then: Any


@dataclass(frozen=True)
class KeepAlive:
    """A gateway that keeps the connection busy while it waits: the answer starts at once (status
    200) and a keep-alive byte follows every `every` seconds (a space in JSON, an SSE `:` comment in
    a stream) until `until` is set (None: for ever), then `then` is sent."""

    then: Any = "too late"
    until: asyncio.Event | None = None
    every: float = 0.05


@dataclass(frozen=True)
class Truncated:
    """An answer the server cut at its token limit: `finish_reason` "length"."""

    text: str


@dataclass(frozen=True)
class Filtered:
    """An answer the provider's content filter stopped: `finish_reason` "content_filter", with the
    text that came before it."""

    text: str


@dataclass(frozen=True)
class Unfinished:
    """A stream that ends without its end (no `finish_reason`, no `[DONE]`): the text deltas, then
    the connection closes."""

    parts: tuple[str, ...]


def user_lines(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def echo_responder(request: dict[str, Any]) -> Any:
    return "Answering: " + " | ".join(user_lines(request))


# Long sentences, so that a streamed answer is shown in several appends (at least 256 new characters each).
LONG_STEPS = (
    "First unplug your ZenHub from the wall socket and count slowly to ten before you plug it back in "
    "again, because the hub needs a few seconds without power to clear its radio, and a quick unplug and "
    "replug often leaves it exactly where it was before, still blinking red at you from the shelf. "
    "Then open the ZenNest app, choose Devices, pick the hub and wait until its light turns a steady "
    "white, which can take up to two minutes while it looks for your network, downloads any update it "
    "missed and checks in with every sensor in your home one after the other, so please be patient. "
)


def long_steps_responder(request: dict[str, Any]) -> str:
    """`LONG_STEPS`, then what the model was given: an answer long enough to stream, naming its questions."""
    return LONG_STEPS + "Answering: " + " | ".join(user_lines(request)) + "."


class FakeOpenAI(LocalServer):
    def __init__(self, responder: Callable[[dict[str, Any]], Any] = echo_responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.models: dict[str, dict[str, Any]] = {}  # GET /v1/models/{id}; unknown ids answer 404
        self.in_flight = 0
        self.most_in_flight = 0  # the most chat requests open at the same time
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
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

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            result = self.responder(body)
            if isinstance(result, KeepAlive):
                return await self._keep_alive(request, body, result)
            while isinstance(result, Delay | Hold):
                if isinstance(result, Hold):
                    await result.until.wait()
                else:
                    await asyncio.sleep(result.seconds)
                result = result.then
        finally:
            self.in_flight -= 1
        if body.get("stream") and not isinstance(result, HttpError):
            return await self._stream(request, body, result)
        if isinstance(result, Streamed):
            texts = [p for p in result.parts if isinstance(p, str)]
            calls = [p for p in result.parts if isinstance(p, ToolCall)]
            result = calls[0] if calls else "".join(texts)
        if isinstance(result, Raw):
            return web.json_response(result.body)
        if isinstance(result, Unfinished):
            result = "".join(result.parts)
        if isinstance(result, HttpError):
            return web.json_response(
                {"error": {"message": "fake failure", "type": "server_error", "code": result.code}},
                status=result.status,
            )
        return web.json_response(self._completion(body, result))

    def _completion(self, body: dict[str, Any], result: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if isinstance(result, Truncated):
            result, finish = result.text, "length"
        if isinstance(result, Filtered):
            result, finish = result.text, "content_filter"
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
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    async def _keep_alive(self, request: web.Request, body: dict[str, Any], result: KeepAlive) -> web.StreamResponse:
        streamed = bool(body.get("stream"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream" if streamed else "application/json"})
        await response.prepare(request)
        while result.until is None or not result.until.is_set():
            await response.write(b": keep-alive\n\n" if streamed else b" ")
            await asyncio.sleep(result.every)
        if streamed:
            return await self._stream(request, body, result.then, response)
        await response.write(json.dumps(self._completion(body, result.then)).encode())
        await response.write_eof()
        return response

    async def _stream(
        self, request: web.Request, body: dict[str, Any], result: Any, response: web.StreamResponse | None = None
    ) -> web.StreamResponse:
        """Server-sent events shaped like OpenAI's chat.completion.chunk stream."""
        finish = "stop"
        if isinstance(result, Truncated):
            result, finish = result.text, "length"
        if isinstance(result, Filtered):
            result, finish = result.text, "content_filter"
        unfinished = isinstance(result, Unfinished)
        parts = result.parts if isinstance(result, Streamed | Unfinished) else _words(result)
        if response is None:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
        ident = f"chatcmpl-{next(self._ids)}"

        async def send(delta: dict[str, Any], finish_reason: str | None = None, usage: Any = None) -> None:
            chunk = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}] if delta is not None else [],
                "usage": usage,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for part in parts:
            if isinstance(part, asyncio.Event):
                await part.wait()
            elif isinstance(part, (int, float)):
                await asyncio.sleep(part)
            elif isinstance(part, ToolCall):
                finish = "tool_calls"
                call_id = f"call_{next(self._ids)}"
                arguments = json.dumps({"reason": part.reason, "summary": part.summary})
                await send(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": "handoff_to_human", "arguments": arguments[:10]},
                            }
                        ]
                    }
                )
                await send({"tool_calls": [{"index": 0, "function": {"arguments": arguments[10:]}}]})
            else:
                await send({"content": str(part)})
        if unfinished:
            await response.write_eof()
            return response
        await send({}, finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            await send(None, usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})  # type: ignore[arg-type]
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _words(result: Any) -> list[Any]:
    """A plain answer streamed a few words at a time; a tool call as itself."""
    if isinstance(result, ToolCall):
        return [result]
    words = str(result).split(" ")
    return [" ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)]
