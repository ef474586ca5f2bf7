"""Our chat JSONL as the chat template wants it, plus which assistant turns are trained.

A line is `{"objective", "messages", "tools"}` in OpenAI's fine-tuning format. The template only
needs messages and tools, so `objective` is dropped; an assistant turn's `weight: 0` (OpenAI's way
to show a turn without training on it) becomes `trained=False`; a tool call's JSON-string
`arguments` becomes a mapping, which is what Hugging Face chat templates render (`| tojson`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.prompt import TOOLS


@dataclass(frozen=True, slots=True)
class ChatExample:
    """One conversation, ready for `apply_chat_template(messages, tools=tools)`."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    trained: tuple[bool, ...]  # one flag per assistant message, in order

    @property
    def assistant_turns(self) -> int:
        return len(self.trained)


def load_examples(path: Path) -> list[ChatExample]:
    """Read a JSONL file; a broken line raises ValueError naming the file and line."""
    examples: list[ChatExample] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                examples.append(to_example(json.loads(line)))
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}:{number}: not a chat example ({error})") from None
    return examples


def to_example(record: dict[str, Any]) -> ChatExample:
    messages: list[dict[str, Any]] = []
    trained: list[bool] = []
    for message in record["messages"]:
        clean = {key: value for key, value in message.items() if key != "weight"}
        if clean["role"] == "assistant":
            trained.append(message.get("weight", 1) != 0)
            if clean.get("tool_calls"):
                clean["tool_calls"] = [_mapping_arguments(call) for call in clean["tool_calls"]]
                clean["content"] = clean.get("content") or ""
        messages.append(clean)
    if not trained:
        raise ValueError("no assistant message")
    return ChatExample(messages=messages, tools=list(record.get("tools") or TOOLS), trained=tuple(trained))


def _mapping_arguments(call: dict[str, Any]) -> dict[str, Any]:
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        function["arguments"] = json.loads(arguments or "{}")
    return {**call, "function": function}


def sha256_of(path: Path) -> str:
    """The file's hash, recorded in the model card so a run can be tied to its exact data."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
