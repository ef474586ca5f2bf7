"""`sarah train episodes` end to end: models beside the baselines, a judge, a JSON copy, and input
mistakes reported before any model is asked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sarah_testing.openai_chat import FakeOpenAI, ToolCall
from training.cli import main
from training.episodes.command import _openai_compatible


def server_answers(request: dict[str, Any]) -> Any:
    system = request["messages"][0]["content"]
    if request["model"] == "sim":
        return "come on, I really need this sorted"
    if request["model"] == "judge":
        return '{"better": "second"}' if '"better"' in system else '{"helpfulness": 2, "tone": 4, "reason": "meh"}'
    return ToolCall("unknown_answer")  # the model under test hands everything to a person


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI(server_answers)
    await fake.start()
    yield fake
    await fake.close()


async def episodes(*flags: str) -> int:
    return await asyncio.to_thread(main, ["episodes", *flags])


async def test_two_models_a_judge_and_the_baselines_in_one_report(server: FakeOpenAI, tmp_path: Path) -> None:
    report, figures = tmp_path / "episodes.md", tmp_path / "episodes.json"
    code = await episodes(
        "--limit",
        "6",
        "--tries",
        "2",
        "--model",
        "offline",
        "--model",
        f"url:{server.base_url}#handoff",
        "--judge",
        f"{server.base_url}#judge",
        "--report",
        str(report),
        "--json",
        str(figures),
    )
    assert code == 0
    text = report.read_text(encoding="utf-8")
    for baseline in ("always hand off (baseline)", "always decline (baseline)", "knowledge-base echo (baseline)"):
        assert baseline in text
    assert "A = offline, B = handoff @" in text and ("noise" in text)
    assert "## LLM judge (judge)" in text and "both orders" in text
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert [m["label"] for m in data["models"]] == ["offline", f"handoff @ {server.base_url}"]
    assert all(
        0 <= m["task_success"]["low"] <= m["task_success"]["value"] <= m["task_success"]["high"] <= 1
        for m in data["models"] + data["baselines"]
    )
    assert sorted(data["models"][0]["pass_k"]) == ["1", "2"]


async def test_a_broken_scenario_file_stops_before_any_model_is_asked(
    server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "scenarios.jsonl"
    broken.write_text('{"id": "a"}\n', encoding="utf-8")
    code = await episodes("--scenarios", str(broken), "--model", f"url:{server.base_url}#handoff")
    assert code == 2
    assert f"{broken}:1: missing 'area'" in capsys.readouterr().err
    assert server.requests == []


async def test_an_llm_plays_the_customer_and_the_report_says_so(server: FakeOpenAI, tmp_path: Path) -> None:
    report = tmp_path / "episodes.md"
    code = await episodes(
        "--limit",
        "3",
        "--tries",
        "1",
        "--model",
        f"url:{server.base_url}#handoff",
        "--simulator",
        f"{server.base_url}#sim",
        "--report",
        str(report),
    )
    assert code == 0
    assert "simulated customer: sim (an LLM; 0 follow-ups fell back" in report.read_text(encoding="utf-8")
    assert any(r["model"] == "sim" for r in server.requests)


def test_a_judge_given_without_a_model_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["episodes", "--limit", "1", "--judge", "http://127.0.0.1:9/v1"]) == 2
    assert "--judge: use <base_url>#<model>" in capsys.readouterr().err


async def test_the_judge_and_the_simulator_use_their_own_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-main-key")
    monkeypatch.setenv("JUDGE_API_KEY", "judge-key")
    closers: list[Callable[[], Awaitable[None]]] = []
    judge = _openai_compatible(("http://127.0.0.1:9/v1", "judge"), "JUDGE_API_KEY", closers, temperature=0.0)
    simulator = _openai_compatible(("http://127.0.0.1:9/v1", "sim"), "SIMULATOR_API_KEY", closers, temperature=0.7)
    assert judge.client.api_key == "judge-key"  # type: ignore[attr-defined]
    assert simulator.client.api_key == "not-needed"  # type: ignore[attr-defined]  # never OPENAI_API_KEY
    for close in closers:
        await close()
