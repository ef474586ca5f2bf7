"""One clear sentence for each way an OpenAI-compatible API call can fail.

A fine-tune command that dies with a traceback (or, worse, prints the key) teaches nothing; the
user needs to know which setting to fix or whether to simply try again.
"""

from __future__ import annotations

import re

import openai

_SECRET = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|[A-Fa-f0-9]{32,})\b")


def describe_api_error(
    error: Exception, *, key_variable: str = "OPENAI_API_KEY", url_variable: str = "OPENAI_BASE_URL"
) -> str:
    """The sentence to print for `error` (never the key, never a traceback)."""
    detail = _detail(error)
    if isinstance(error, openai.APITimeoutError):  # a subclass of APIConnectionError: first
        return "The API did not answer in time; try again in a minute."
    if isinstance(error, openai.APIConnectionError):
        return f"Could not reach the API: check {url_variable} and the network, then try again."
    if isinstance(error, openai.AuthenticationError):
        return f"The API refused the key: check {key_variable}."
    if isinstance(error, openai.PermissionDeniedError):
        return f"This key is not allowed to do that: {detail}"
    if isinstance(error, openai.NotFoundError):
        return f"Not found: {detail}"
    if isinstance(error, openai.RateLimitError):
        if _code(error) == "insufficient_quota":
            return "The account has no quota left: add credit to it, then try again."
        return "The API is rate-limiting us: wait a minute, then try again."
    if isinstance(error, openai.BadRequestError):
        return f"The API rejected the request: {detail}"
    if isinstance(error, openai.APIStatusError):
        return f"The API answered HTTP {error.status_code}: {detail}"
    return f"The API call failed: {detail}"


def _detail(error: Exception) -> str:
    body = getattr(error, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or getattr(error, "message", None) or error)
    text = _SECRET.sub("[redacted]", " ".join(text.split()))
    return text if text.endswith((".", "!", "?")) else text + "."


def _code(error: Exception) -> str | None:
    body = getattr(error, "body", None)
    return body.get("code") if isinstance(body, dict) else getattr(error, "code", None)
