"""Sarah's model behind any OpenAI-compatible chat-completions API (OpenAI, Azure, vLLM).

The SDK already retries connection errors, timeouts, 408/409/429 and 5xx with backoff; this class
turns what is left into a `Reply`: a `handoff_to_human` tool call becomes `Outcome.HANDOFF`, and a
failure becomes `Outcome.UNAVAILABLE` with a short reason. The key is never logged.

Each call has one deadline of its own (`deadline_seconds`): the SDK's timeout bounds each read, not
the call, so a gateway that sends keep-alive bytes (whitespace, SSE comments) while it waits would
otherwise hold the thread for ever. An answer the server cut short (`finish_reason` "length", or a
stream that ends without its finish) is a failed call, never posted as if it were whole; so is one
the provider's content filter stopped (`finish_reason` "content_filter": whatever text came is a
fragment, and it is not logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from handlers.model import Conversation, Outcome, Reply, TextSink
from handlers.prompt import HANDOFF_REASONS, HANDOFF_TOOL_NAME, TOOLS

log = logging.getLogger(__name__)

# The SDK waits between its retries (exponential, at most 8 s each): the deadline allows for that.
RETRY_PAUSE_SECONDS = 8.0


def call_deadline(timeout_seconds: float, max_retries: int) -> float:
    """The deadline of one model call: MODEL_TIMEOUT_SECONDS for each try (the first and every
    retry, counted apart) plus the SDK's pauses between them."""
    return timeout_seconds * (max_retries + 1) + RETRY_PAUSE_SECONDS * max_retries


class OpenAIChatModel:
    """`reply(conversation)` through `client.chat.completions.create` with Sarah's hand-off tool."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        *,
        max_tokens: int = 600,
        temperature: float = 0.3,
        deadline_seconds: float | None = None,
    ) -> None:
        """`deadline_seconds`: the longest one call may take, retries included (None: from the
        client's timeout and retries, see `call_deadline`)."""
        self._client = client
        self.name = model
        self._max_tokens = max_tokens
        self._temperature = temperature
        timeout = client.timeout if isinstance(client.timeout, int | float) else 600.0
        self.deadline_seconds = deadline_seconds or call_deadline(float(timeout), client.max_retries)

    @property
    def client(self) -> AsyncOpenAI:
        return self._client

    async def aclose(self) -> None:
        await self._client.close()

    async def reply(self, conversation: Conversation) -> Reply:
        body = self._body(conversation)
        try:
            # `post` is the SDK's documented way to send a request as is: it keeps the client's
            # retries and timeout but skips re-validating the parameters, which cost ~20% of Sarah's
            # CPU per reply in the benchmark (the body is built here, from typed values). With
            # `cast_to=object` the reply is the JSON as sent: building the SDK's models from it was
            # another 6% of the worker's CPU, for the three fields read below.
            async with asyncio.timeout(self.deadline_seconds):
                completion = await self._client.post("/chat/completions", body=body, cast_to=object)
        except TimeoutError:
            return _unavailable("timeout")
        except openai.APIError as error:
            return _failed(error)
        return _reply_from(completion)

    async def reply_streaming(self, conversation: Conversation, on_text: TextSink) -> Reply:
        """The same request with `stream: true`: text deltas go to `on_text` as they come, tool-call
        deltas are gathered, and the end result is judged exactly like `reply`'s."""
        body = {**self._body(conversation), "stream": True, "stream_options": {"include_usage": True}}
        text = ""
        calls: dict[int, dict[str, str]] = {}
        usage: dict[str, int] = {}
        finish = ""
        deadline = asyncio.timeout(self.deadline_seconds)
        try:
            async with deadline:
                stream = await self._client.post(
                    "/chat/completions",
                    body=body,
                    cast_to=ChatCompletion,
                    stream=True,
                    stream_cls=AsyncStream[ChatCompletionChunk],
                )
                async with stream:
                    async for chunk in stream:
                        if chunk.usage is not None:
                            usage = {
                                "prompt_tokens": chunk.usage.prompt_tokens,
                                "completion_tokens": chunk.usage.completion_tokens,
                            }
                        if not chunk.choices:
                            continue
                        finish = chunk.choices[0].finish_reason or finish
                        delta = chunk.choices[0].delta
                        for piece in delta.tool_calls or []:
                            gathered = calls.setdefault(piece.index, {"name": "", "arguments": ""})
                            if piece.function is not None:
                                gathered["name"] += piece.function.name or ""
                                gathered["arguments"] += piece.function.arguments or ""
                        if delta.content:
                            text += delta.content
                            if not await on_text(text):
                                return Reply(text="", outcome=Outcome.UNAVAILABLE, reason="abandoned")
        except TimeoutError:
            if not deadline.expired():
                raise  # not this call's deadline (the text sink's own)
            return _unavailable("timeout")
        except openai.BadRequestError as error:
            if text or _code(error) == "context_length_exceeded":
                return _failed(error)
            # A server that refuses `stream` or `stream_options` (an older vLLM or Azure API version)
            # still answers the ordinary way: nothing was shown yet.
            log.warning("the model server refused a streaming request; asking without streaming")
            return await self.reply(conversation)
        except openai.APIError as error:
            return _failed(error)
        if finish == "content_filter":  # the provider withheld the rest: what came is not an answer
            return _unavailable("filtered")
        if finish in ("", "length"):  # cut at the token limit, or the stream ended without its finish
            return _unavailable("truncated")
        for gathered in calls.values():
            if gathered["name"] == HANDOFF_TOOL_NAME:
                reason, summary = _handoff_arguments(gathered["arguments"])
                return Reply(text=text, outcome=Outcome.HANDOFF, reason=reason, summary=summary, usage=usage)
        if not text.strip():
            return _unavailable("empty")
        return Reply(text=text.strip(), usage=usage)

    def _body(self, conversation: Conversation) -> dict[str, Any]:
        return {
            "model": self.name,
            "messages": conversation.as_messages(),
            "tools": TOOLS,
            "max_tokens": self._max_tokens,
            "temperature": self._temperature,
        }


def _failed(error: openai.APIError) -> Reply:
    """A failed call (or a stream broken off midway) as `Outcome.UNAVAILABLE` with a short reason."""
    if isinstance(error, openai.APIConnectionError):  # APITimeoutError included
        return _unavailable(_connection_reason(error))
    if isinstance(error, openai.RateLimitError):
        return _unavailable("quota" if _code(error) == "insufficient_quota" else "rate_limited")
    if isinstance(error, openai.AuthenticationError):
        log.error("the model API refused the key (OPENAI_API_KEY)")
        return _unavailable("auth")
    if isinstance(error, openai.BadRequestError):
        return _unavailable("context_too_long" if _code(error) == "context_length_exceeded" else "bad_request")
    if isinstance(error, openai.APIStatusError):
        return _unavailable("server_error" if error.status_code >= 500 else f"http_{error.status_code}")
    return _unavailable("stream_error")  # an error event inside a stream


def _reply_from(completion: object) -> Reply:
    """The reply in a chat completion's JSON, read defensively: a server that sends something
    else (an OpenAI-compatible one with a bug, a proxy's error page as JSON) is a failed call."""
    data = completion if isinstance(completion, dict) else {}
    usage = {}
    counted = data.get("usage")
    if isinstance(counted, dict):
        usage = {
            "prompt_tokens": _count(counted.get("prompt_tokens")),
            "completion_tokens": _count(counted.get("completion_tokens")),
        }
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return _unavailable("no_choices")
    if choices[0].get("finish_reason") == "length":
        return _unavailable("truncated")
    if choices[0].get("finish_reason") == "content_filter":
        return _unavailable("filtered")
    message = choices[0].get("message")
    message = message if isinstance(message, dict) else {}
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and function.get("name") == HANDOFF_TOOL_NAME:
            arguments = function.get("arguments")
            reason, summary = _handoff_arguments(arguments if isinstance(arguments, str) else None)
            return Reply(text=text, outcome=Outcome.HANDOFF, reason=reason, summary=summary, usage=usage)
    if not text.strip():
        return _unavailable("empty")
    return Reply(text=text.strip(), usage=usage)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _handoff_arguments(raw: str | None) -> tuple[str, str]:
    """Read the tool call's arguments leniently: a malformed call still means 'get a human'."""
    try:
        data = json.loads(raw or "{}")
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    reason = data.get("reason") if data.get("reason") in HANDOFF_REASONS else "unknown_answer"
    summary = data.get("summary") if isinstance(data.get("summary"), str) else ""
    return str(reason), str(summary)


def _connection_reason(error: openai.APIConnectionError) -> str:
    """`timeout` when the server was too slow, `unreachable` when it could not be reached at all.

    The exception's type alone is not enough: httpx-aiohttp (the SDK's aiohttp client) reports a
    refused connection as a `ConnectTimeout`, so the cause chain decides: a `TimeoutError` in it is
    a timeout; an `OSError` (refused, reset, unknown host) is unreachable.
    """
    seen: BaseException | None = error
    causes: list[BaseException] = []
    while seen is not None and len(causes) < 20:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return "timeout"
    if any(isinstance(cause, OSError) for cause in causes):
        return "unreachable"
    return "timeout" if isinstance(error, openai.APITimeoutError) else "unreachable"


def _code(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    return str(inner.get("code", "")) if isinstance(inner, dict) else ""


def _unavailable(reason: str) -> Reply:
    log.warning("model call failed", extra={"reason": reason})
    return Reply(text="", outcome=Outcome.UNAVAILABLE, reason=reason)
