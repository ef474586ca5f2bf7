"""Small, valid training examples for the tests, built like the shipped data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handlers.prompt import HANDOFF_TOOL, SYSTEM_PROMPT
from training.examples import OBJECTIVES

_TOPICS = [
    "thermostat schedule",
    "door lock battery",
    "camera night vision",
    "light scenes",
    "motion sensor range",
    "hub firmware",
    "app notifications",
    "plan upgrade",
    "warranty claim",
    "privacy settings",
    "guest codes",
    "geofencing",
    "energy reports",
    "vacation mode",
    "sensor pairing",
    "wifi band",
    "voice assistants",
]


def example(n: int, objective: str = "knowledge", *, handoff: bool = False) -> dict[str, Any]:
    """A distinct, valid example: the n-th topic with words that keep it far from the others."""
    topic = _TOPICS[n % len(_TOPICS)]
    words = " ".join(f"w{n}x{i}" for i in range(6))
    user = f"Question {n} about the {topic}: how does it work? ({words})"
    if handoff:
        assistant: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{n}",
                    "type": "function",
                    "function": {
                        "name": "handoff_to_human",
                        "arguments": json.dumps({"reason": "customer_asked", "summary": f"Wants a person ({n})."}),
                    },
                }
            ],
        }
    else:
        assistant = {"role": "assistant", "content": f"Here is how the {topic} works, step {n}: open the app. {words}"}
    return {
        "objective": objective,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
            assistant,
        ],
        "tools": [HANDOFF_TOOL],
    }


def dataset(per_objective: int = 10) -> list[dict[str, Any]]:
    """`per_objective` distinct examples for every objective (a hand-off every fourth)."""
    out = []
    n = 0
    for objective in OBJECTIVES:
        for _ in range(per_objective):
            out.append(example(n, objective, handoff=n % 4 == 3))
            n += 1
    return out


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Write each item as a JSON line (a str is written verbatim, to plant broken lines)."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path
