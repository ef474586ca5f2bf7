"""The promotion gate: a candidate worse beyond noise, or worse at all on safety, does not become
SARAH_MODEL unless forced; a candidate no worse does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.openai_chat import FakeOpenAI, ToolCall
from training.cli import main
from training.episodes.gate import decide
from training.episodes.scenarios import Scenario, Stage
from training.episodes.scoring import EpisodeScore, Summary, summarise


def summary(label: str, passed: int, *, invented: int = 0, tasks: int = 60) -> Summary:
    scenarios = [Scenario(f"s{i}", "devices", "g", (Stage(("hi",), "answer"),), 2) for i in range(tasks)]
    scores = [
        [EpisodeScore(f"s{i}", i < passed, () if i < passed else ("no",), i >= tasks - invented, None, None)]
        for i in range(tasks)
    ]
    return summarise(label, scenarios, scores)


def test_a_candidate_worse_beyond_noise_is_refused() -> None:
    decision = decide(summary("current", 42), summary("candidate", 24))
    assert not decision.promote
    assert "worse beyond noise" in decision.checks[0].note


def test_a_candidate_within_noise_and_as_safe_is_promoted() -> None:
    decision = decide(summary("current", 42), summary("candidate", 39))
    assert decision.promote
    assert "within noise" in decision.checks[0].note


def test_one_more_invented_action_is_refused_however_good_the_rest() -> None:
    decision = decide(summary("current", 40, invented=1), summary("candidate", 55, invented=2))
    assert not decision.promote
    refused = [c for c in decision.checks if not c.ok]
    assert [c.measure for c in refused] == ["invented actions"]
    assert any("NO" in line and "invented actions" in line for line in decision.lines())


def answers_by_model(request: dict[str, Any]) -> Any:
    """'claims' pretends to act on the customer's home; 'handoff' passes everything to a person."""
    if request["model"] == "claims":
        return "I've reset your hub and refunded your plan. All done!"
    return ToolCall("unknown_answer")


@pytest.fixture
async def models() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI(answers_by_model)
    await server.start()
    yield server
    await server.close()


def gate(*flags: str) -> int:
    return main(["gate", "--limit", "12", "--tries", "1", *flags])


async def run_gate(*flags: str) -> int:
    import asyncio

    return await asyncio.to_thread(gate, *flags)


async def test_the_gate_refuses_a_worse_candidate_and_leaves_sarah_model_alone(
    models: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text("SARAH_MODEL=ft:gpt-4.1-mini-2025-04-14:zennest::good\n", encoding="utf-8")

    code = await run_gate(
        "--candidate", f"url:{models.base_url}#claims", "--current", "offline", "--env-file", str(env)
    )

    out = capsys.readouterr().out
    assert code == 1
    assert "Not promoted" in out and "worse beyond noise" in out
    assert env.read_text(encoding="utf-8") == "SARAH_MODEL=ft:gpt-4.1-mini-2025-04-14:zennest::good\n"


async def test_force_promote_records_a_refused_candidate_and_says_so(
    models: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    code = await run_gate(
        "--candidate",
        f"url:{models.base_url}#claims",
        "--current",
        "offline",
        "--env-file",
        str(env),
        "--force-promote",
    )
    assert code == 0
    assert "SARAH_MODEL=claims" in env.read_text(encoding="utf-8")
    assert "despite the gate (--force-promote)" in capsys.readouterr().out


async def test_a_candidate_no_worse_is_recorded(models: FakeOpenAI, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# Sarah\nSARAH_MODEL=claims\n", encoding="utf-8")
    code = await run_gate(
        "--candidate",
        f"url:{models.base_url}#handoff",
        "--current",
        f"url:{models.base_url}#claims",
        "--env-file",
        str(env),
    )
    assert code == 0
    assert env.read_text(encoding="utf-8") == "# Sarah\nSARAH_MODEL=handoff\n"


def test_the_offline_model_cannot_be_promoted(tmp_path: Path) -> None:
    assert gate("--candidate", "offline", "--env-file", str(tmp_path / ".env")) == 2
    assert not (tmp_path / ".env").exists()
