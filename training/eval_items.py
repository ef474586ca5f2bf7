"""Reading the held-out set for `sarah train evaluate`: every problem named by `file:line`, before any call.

A broken line found after the models were asked would waste every paid call before it, so the whole
file is checked first and all its problems are reported together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class EvalFileError(ValueError):
    """The eval file cannot be used; `problems` holds one `file:line: what is wrong` per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def item_problems(value: Any) -> list[str]:
    """What keeps one parsed line from being an eval item (empty when it is one)."""
    if not isinstance(value, dict):
        return [f"an item must be a JSON object, not {type(value).__name__}"]
    problems = []
    if not isinstance(value.get("id"), str) or not value["id"].strip():
        problems.append("no 'id' (a non-empty text naming the item)")
    messages = value.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("no 'messages' list (the conversation to answer)")
    elif not all(isinstance(m, dict) and m.get("role") in ("user", "assistant", "system") for m in messages):
        problems.append("every message needs a 'role' of user, assistant or system")
    elif messages[-1].get("role") != "user" or not isinstance(messages[-1].get("content"), str):
        problems.append("'messages' must end with the customer's message (role user, text content)")
    if not isinstance(value.get("expect"), dict):
        problems.append("no 'expect' object (what a good answer does)")
    return problems


def load_eval_items(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The file's items (the first `limit`); raises EvalFileError listing every bad line of the whole file."""
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg} at column {error.colno})")
            continue
        found = item_problems(value)
        if not found and value["id"] in first_line_of:
            found = [f"id {value['id']!r} is already used on line {first_line_of[value['id']]}"]
        problems.extend(f"{where}: {problem}" for problem in found)
        if not found:
            first_line_of[value["id"]] = number
            items.append(value)
    if problems:
        raise EvalFileError(problems)
    if not items:
        raise EvalFileError([f"{path}: no items"])
    return items[:limit] if limit else items
