"""The optional LLM judge (both orders, agreement with the rules) and the LLM-driven customer, each
against the fake OpenAI-compatible server."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fakeredis import FakeAsyncRedis
from openai import AsyncOpenAI

from handlers.model import Reply
from sarah_model.knowledge import load_knowledge_base
from sarah_model.openai_chat import OpenAIChatModel
from sarah_testing.openai_chat import FakeOpenAI, HttpError
from training.episodes.judge import grade, pairwise_agreement, pointwise_agreement, prefer
from training.episodes.runner import Episode, EpisodeRunner, Line
from training.episodes.scenarios import Scenario, load_scenarios
from training.episodes.simulator import LLMCustomer, ScriptedCustomer

PASSAGES = [p.id for p in load_knowledge_base()]


def episode_saying(text: str, tmp_path: Path) -> Episode:
    raw = {
        "id": "hub",
        "area": "devices",
        "goal": "get the hub back online",
        "max_turns": 2,
        "stages": [{"say": ["hub offline"], "expect": "answer", "required": {"restart": ["3 seconds"]}}],
    }
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(raw), encoding="utf-8")
    episode = Episode(load_scenarios(path, PASSAGES)[0])
    episode.lines = [Line("customer", "hub offline", 0), Line("sarah", text, 0)]
    return episode


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.close()


def model_at(server: FakeOpenAI, name: str, responder: Callable[[dict[str, Any]], Any]) -> OpenAIChatModel:
    server.responder = responder
    client = AsyncOpenAI(api_key="judge-key", base_url=server.base_url, max_retries=0)
    return OpenAIChatModel(client, name, temperature=0.0)


def section(request: dict[str, Any], name: str) -> str:
    text = request["messages"][-1]["content"]
    found = re.search(rf"{name}:\n(.*?)(?:\n\nSECOND:|$)", text, re.S)
    return found.group(1) if found else ""


def fair_judge(request: dict[str, Any]) -> Any:
    if '"better"' in request["messages"][0]["content"]:
        return '{"better": "first"}' if "3 seconds" in section(request, "FIRST") else '{"better": "second"}'
    helpful = 5 if "3 seconds" in request["messages"][-1]["content"] else 2
    return json.dumps({"helpfulness": helpful, "tone": 4, "reason": "by the rubric"})


async def test_the_judge_grades_on_the_rubric_and_agrees_with_the_rules(server: FakeOpenAI, tmp_path: Path) -> None:
    judge = model_at(server, "judge", fair_judge)
    good, bad = episode_saying("Hold the button for 3 seconds.", tmp_path), episode_saying("No idea.", tmp_path)
    grades = [await grade(judge, good), await grade(judge, bad)]
    assert [(g.helpfulness, g.tone) for g in grades if g] == [(5, 4), (2, 4)]
    assert "Helpfulness (1-5)" in server.requests[0]["messages"][0]["content"]  # the written rubric is sent
    assert pointwise_agreement(grades, [True, False]).value == 1.0
    assert await prefer(judge, good, bad) == "a"
    assert await prefer(judge, bad, good) == "b"
    assert pairwise_agreement(["a"], [True], [False]).value == 1.0


async def test_a_judge_that_prefers_whatever_comes_first_gives_no_preference(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    judge = model_at(server, "judge", lambda request: '{"better": "first"}')
    good, bad = episode_saying("Hold the button for 3 seconds.", tmp_path), episode_saying("No idea.", tmp_path)
    assert await prefer(judge, good, bad) is None
    orders = [section(r, "FIRST") for r in server.requests]
    assert "3 seconds" in orders[0] and "No idea." in orders[1]  # asked both ways round
    assert pairwise_agreement([None], [True], [False]).value == 0.0


async def test_a_failing_judge_grades_nothing(server: FakeOpenAI, tmp_path: Path) -> None:
    judge = model_at(server, "judge", lambda request: HttpError(500))
    assert await grade(judge, episode_saying("Hold it for 3 seconds.", tmp_path)) is None


def hub_scenario(tmp_path: Path) -> Scenario:
    raw = {
        "id": "hub",
        "area": "devices",
        "goal": "get the hub back online",
        "max_turns": 2,
        "stages": [{"say": ["my hub is offline"], "expect": "answer", "required": {"restart": ["3 seconds"]}}],
    }
    path = tmp_path / "hub.jsonl"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return load_scenarios(path, PASSAGES)[0]


class Vague:
    name = "vague"

    async def reply(self, conversation: object) -> Reply:
        return Reply("Have you tried turning things off and on?")


async def test_an_llm_customer_writes_the_follow_ups_from_the_goal(server: FakeOpenAI, tmp_path: Path) -> None:
    simulator = model_at(server, "customer-sim", lambda request: "ugh that didn't fix it, the hub is still offline")
    customer = LLMCustomer(simulator)
    episode = await EpisodeRunner(FakeAsyncRedis(), Vague(), customer).run(hub_scenario(tmp_path))
    said = [line.text for line in episode.lines if line.speaker == "customer"]
    assert said == ["my hub is offline", "ugh that didn't fix it, the hub is still offline"]
    request = server.requests[0]
    assert request["model"] == "customer-sim"
    assert "get the hub back online" in request["messages"][0]["content"]
    assert "Have you tried turning things off and on?" in request["messages"][-1]["content"]
    assert customer.fallbacks == 0


async def test_when_the_customer_model_fails_the_scripted_line_is_used_and_counted(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    customer = LLMCustomer(model_at(server, "customer-sim", lambda request: HttpError(503)))
    scripted = await EpisodeRunner(FakeAsyncRedis(), Vague(), ScriptedCustomer()).run(hub_scenario(tmp_path))
    episode = await EpisodeRunner(FakeAsyncRedis(), Vague(), customer).run(hub_scenario(tmp_path))
    assert customer.fallbacks == 1
    assert [line.text for line in episode.lines] == [line.text for line in scripted.lines]
