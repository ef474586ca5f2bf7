"""Reading our training JSONL and making it what OpenAI accepts.

Our examples carry an `objective` field (which of the tutorial's objectives an example teaches) so
the split can stratify and the validator can report per objective. OpenAI rejects unknown keys, so
`strip_for_upload` removes ours before a file leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OBJECTIVES = ("identity", "knowledge", "jargon", "interaction", "multi_turn", "error_handling", "handoff")

# Top-level keys OpenAI's chat fine-tuning accepts, and the ones only we use (stripped before upload).
OPENAI_TOP_LEVEL_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
# `approved` and `source` mark a harvested candidate (training.harvest) until a person has reviewed it.
OUR_TOP_LEVEL_KEYS = frozenset({"objective", "approved", "source"})


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a JSONL file: the parsed value, or the reason it could not be parsed."""

    path: Path
    number: int  # 1-based, as an editor shows it
    value: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.number}"


def read_jsonl(path: Path) -> Iterator[Line]:
    """Every non-blank line of `path`; a broken line is yielded with its error, not raised."""
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield Line(path, number, json.loads(text))
            except json.JSONDecodeError as error:
                yield Line(path, number, error=f"invalid JSON ({error.msg} at column {error.colno})")


def load_examples(path: Path) -> list[dict[str, Any]]:
    """The parsed examples of a file whose lines are all valid (run `validate` first)."""
    examples = []
    for line in read_jsonl(path):
        if line.error is not None:
            raise ValueError(f"{line.where}: {line.error}")
        examples.append(line.value)
    return examples


def write_jsonl(examples: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one compact JSON object per line; return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")
            count += 1
    return count


def strip_for_upload(example: dict[str, Any]) -> dict[str, Any]:
    """The example without our own keys (e.g. `objective`), as OpenAI's fine-tuning accepts it."""
    return {key: value for key, value in example.items() if key not in OUR_TOP_LEVEL_KEYS}


def write_upload_file(source: Path, target: Path) -> int:
    """Copy a training file with every example stripped for upload; return the example count."""
    return write_jsonl((strip_for_upload(e) for e in load_examples(source)), target)


def objective_of(example: Any) -> str:
    """The example's objective, or `unknown` (so stratification still has a group for it)."""
    if isinstance(example, dict) and isinstance(example.get("objective"), str):
        return str(example["objective"])
    return "unknown"


def dialogue_text(example: Any) -> str:
    """The user and assistant text of an example (tool calls by name), for duplicate detection."""
    if not isinstance(example, dict) or not isinstance(example.get("messages"), list):
        return ""
    parts: list[str] = []
    for message in example["messages"]:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        if isinstance(message.get("content"), str):
            parts.append(message["content"])
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                parts.append(f"[{function.get('name')}] {function.get('arguments', '')}")
    return "\n".join(parts)
