"""Fixtures of the training tests: no machine setting leaks in, W&B stays offline in a temp dir; and
small, valid training examples built like the shipped data (they need Sarah's prompt and objectives)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.training import TrainingSettings
from config.training_local import LocalTrainingSettings
from handlers.prompt import HANDOFF_TOOL, SYSTEM_PROMPT
from sarah_testing.openai_finetune_server import FakeFineTuningServer
from training.examples import OBJECTIVES


@pytest.fixture(autouse=True)
def clean_training_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*TrainingSettings.model_fields, *LocalTrainingSettings.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-dir"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    (tmp_path / "wandb-dir").mkdir(exist_ok=True)


@pytest.fixture
def finetune_server() -> Iterator[FakeFineTuningServer]:
    with FakeFineTuningServer() as server:
        yield server


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
