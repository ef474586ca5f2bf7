"""Read a local model's raw output into a `Reply`, as the OpenAI model reads `tool_calls`.

Served by vLLM, the `hermes` parser turns `<tool_call>{...}</tool_call>` into OpenAI tool calls; here
we generate ourselves, so we parse the same text: Qwen/Hermes-style tags, or a bare JSON object
(Llama 3 style, `parameters` instead of `arguments`). A hand-off with odd arguments is still a
hand-off (the reason falls back to `unknown_answer`), as in `sarah_model.openai_chat`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from handlers.model import Outcome, Reply
from handlers.prompt import HANDOFF_REASONS, HANDOFF_TOOL_NAME

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def reply_from_output(text: str, usage: dict[str, int] | None = None) -> Reply:
    """`HANDOFF` for a hand-off call, `ANSWERED` for plain text, `UNAVAILABLE` for nothing usable."""
    usage = usage or {}
    calls = [match.group(1) for match in _TAGGED.finditer(text)]
    visible = _TAGGED.sub("", text).strip()
    if not calls and visible.startswith("{") and HANDOFF_TOOL_NAME in visible:
        calls, visible = [visible], ""
    for raw in calls:
        call = _json_object(raw)
        if call.get("name") == HANDOFF_TOOL_NAME or (not call and HANDOFF_TOOL_NAME in raw):
            reason, summary = _handoff_arguments(call.get("arguments", call.get("parameters")))
            return Reply(text=visible, outcome=Outcome.HANDOFF, reason=reason, summary=summary, usage=usage)
    if calls:
        return Reply(text="", outcome=Outcome.UNAVAILABLE, reason="unknown_tool_call", usage=usage)
    if not visible:
        return Reply(text="", outcome=Outcome.UNAVAILABLE, reason="empty", usage=usage)
    return Reply(text=visible, usage=usage)


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _handoff_arguments(arguments: Any) -> tuple[str, str]:
    if isinstance(arguments, str):
        arguments = _json_object(arguments)
    if not isinstance(arguments, dict):
        arguments = {}
    reason = arguments.get("reason")
    summary = arguments.get("summary")
    return (reason if reason in HANDOFF_REASONS else "unknown_answer", summary if isinstance(summary, str) else "")
