"""Scenario episodes, played through Sarah's own pipeline: the customer says "that worked" only when
the fix was given, an explicit request and repeated failures reach a person, and no trivial model or
invented action can pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fakeredis import FakeAsyncRedis

from handlers.model import Conversation, Outcome, Reply
from sarah_model.knowledge import load_knowledge_base
from sarah_model.offline import OfflineModel
from training.episodes.baselines import AlwaysDecline, KnowledgeEcho, baselines
from training.episodes.command import play
from training.episodes.runner import Episode, EpisodeRunner
from training.episodes.scenarios import Scenario, load_scenarios
from training.episodes.scoring import score_episode
from training.episodes.simulator import THANKS, ScriptedCustomer
from training.paths import DATA_DIR

PASSAGES = {p.id: p.text for p in load_knowledge_base()}
KNOWLEDGE = (DATA_DIR / "knowledge_base.md").read_text(encoding="utf-8")


class Scripted:
    """A model whose answer depends only on the customer's latest line."""

    name = "scripted"

    def __init__(self, answer: Callable[[str], Reply]) -> None:
        self._answer = answer
        self.asked: list[str] = []

    async def reply(self, conversation: Conversation) -> Reply:
        last = next(t.content for t in reversed(conversation.turns) if t.role == "user")
        self.asked.append(last)
        return self._answer(last)


def scenario(tmp_path: Path, *stages: dict[str, object], max_turns: int = 3) -> Scenario:
    raw = {"id": "s", "area": "devices", "goal": "get help", "max_turns": max_turns, "stages": list(stages)}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(raw) + "\n", encoding="utf-8")
    return load_scenarios(path, list(PASSAGES))[0]


HUB = {
    "say": ["my hub is offline and blinking orange"],
    "expect": "answer",
    "required": {"restart": ["3 seconds"]},
    "contradicts": {"factory reset": ["15 seconds"]},
    "kb": ["hub/offline"],
}


async def run(model: object, s: Scenario) -> Episode:
    runner = EpisodeRunner(FakeAsyncRedis(), model, ScriptedCustomer())  # type: ignore[arg-type]
    return await runner.run(s)


async def test_the_customer_says_it_worked_only_once_the_fix_is_given(tmp_path: Path) -> None:
    s = scenario(tmp_path, HUB)
    model = Scripted(
        lambda last: (
            Reply("Press the pinhole button for 3 seconds.")
            if "frustrating" in last or "not what I asked" in last
            else Reply("Is the router on?")
        )
    )
    episode = await run(model, s)
    customer = [line.text for line in episode.lines if line.speaker == "customer"]
    assert customer[-1] == THANKS
    assert THANKS not in customer[:-1]
    assert customer[1].startswith("That's not what I asked.")  # the first answer missed the fix: a follow-up
    assert score_episode(episode, PASSAGES).success


async def test_a_scenario_is_failed_when_the_fix_never_comes_within_the_turns(tmp_path: Path) -> None:
    episode = await run(Scripted(lambda last: Reply("Is the router on?")), scenario(tmp_path, HUB, max_turns=2))
    score = score_episode(episode, PASSAGES)
    assert episode.turns == 2 and not score.success
    assert "not stated: restart" in score.why_not[0]


async def test_an_answer_that_also_states_a_contradicting_fact_fails(tmp_path: Path) -> None:
    reply = Reply("Hold the button for 3 seconds, or for 15 seconds if that does not help.")
    score = score_episode(await run(Scripted(lambda last: reply), scenario(tmp_path, HUB)), PASSAGES)
    assert not score.success and score.why_not == ("contradicted: factory reset",)


async def test_an_invented_action_fails_even_though_the_pipeline_withheld_it(tmp_path: Path) -> None:
    claims = Scripted(lambda last: Reply("I've reset your hub remotely: hold the button for 3 seconds if needed."))
    episode = await run(claims, scenario(tmp_path, HUB))
    assert not any("I've reset" in text for text in episode.sarah_texts)  # the customer never saw the claim
    score = score_episode(episode, PASSAGES)
    assert score.invented and not score.success


async def test_an_explicit_request_reaches_a_person_through_the_pipeline(tmp_path: Path) -> None:
    asked = {"say": ["can I talk to a person please"], "expect": "handoff", "why": "asked"}
    model = Scripted(lambda last: Reply("Sure, what's up?"))
    episode = await run(model, scenario(tmp_path, asked))
    assert episode.handed_off_at == 0 and episode.handoff_reason == "customer_asked"
    assert episode.raw == []  # the pipeline's own check handed it over: the model never answered
    score = score_episode(episode, PASSAGES)
    assert score.success and score.asked_and_handed


async def test_repeated_failures_are_counted_by_the_pipeline_and_end_with_a_person(tmp_path: Path) -> None:
    s = scenario(
        tmp_path,
        HUB,
        {
            "say": ["did that, it's still not working"],
            "expect": "handoff",
            "why": "repeated_failure",
            "follow_ups": ["still the same, nothing changed", "no luck, same problem again"],
        },
        max_turns=5,
    )
    episode = await run(Scripted(lambda last: Reply("Press the pinhole button for 3 seconds.")), s)
    assert episode.handoff_reason == "steps_failed"
    assert episode.turns == 4  # the fix, then three "still not working": the third failure hands off
    assert score_episode(episode, PASSAGES).success


async def test_a_hand_off_where_an_answer_was_wanted_fails(tmp_path: Path) -> None:
    handoff = Scripted(lambda last: Reply("", Outcome.HANDOFF, reason="unknown_answer"))
    score = score_episode(await run(handoff, scenario(tmp_path, HUB, max_turns=4)), PASSAGES)
    assert not score.success and "handed off at stage 1, which wanted answer" in score.why_not[0]


async def test_a_refusal_that_answers_anyway_fails_a_decline(tmp_path: Path) -> None:
    car = {"say": ["my car won't start, any ideas?"], "expect": "decline", "why": "off_topic"}
    leaky = Scripted(lambda last: Reply("I can only help with ZenNest. That said, for your car, check the battery."))
    score = score_episode(await run(leaky, scenario(tmp_path, car, max_turns=2)), PASSAGES)
    assert not score.success and "declined, then answered anyway" in score.why_not
    polite = Scripted(lambda last: Reply("Sorry, I can only help with ZenNest products and services."))
    assert score_episode(await run(polite, scenario(tmp_path, car, max_turns=2)), PASSAGES).success


async def test_pasting_the_knowledge_base_states_every_fact_and_still_fails(tmp_path: Path) -> None:
    episode = await run(KnowledgeEcho(KNOWLEDGE), scenario(tmp_path, HUB))
    assert episode.reached == 1  # every fact is in there, so the customer moved on
    score = score_episode(episode, PASSAGES)
    assert not score.success
    assert any("characters (bound" in why for why in score.why_not)


async def test_the_scripted_customer_plays_the_same_episode_every_time(tmp_path: Path) -> None:
    s = scenario(tmp_path, HUB)
    first = await run(OfflineModel.from_knowledge_base(), s)
    second = await run(OfflineModel.from_knowledge_base(), s)
    assert [(line.speaker, line.text) for line in first.lines] == [(line.speaker, line.text) for line in second.lines]


async def test_on_the_shipped_set_the_trivial_baselines_score_near_zero_and_the_offline_model_does_not() -> None:
    scenarios = load_scenarios(DATA_DIR / "scenarios.jsonl", list(PASSAGES))
    results = {}
    for model in [*baselines(KNOWLEDGE), OfflineModel.from_knowledge_base()]:
        summary, _ = await play(model, scenarios, PASSAGES, tries=1, customer=ScriptedCustomer())
        results[model.name] = summary.task_success
    for name in ("always hand off", "always decline", "knowledge-base echo"):
        assert results[name].value <= 0.1, (name, str(results[name]))
    assert results["offline"].low > max(results[n].high for n in ("always hand off", "always decline"))


async def test_pass_hat_k_is_reported_for_every_k_up_to_the_tries(tmp_path: Path) -> None:
    summary, episodes = await play(
        AlwaysDecline(), [scenario(tmp_path, HUB)], PASSAGES, tries=3, customer=ScriptedCustomer()
    )
    assert sorted(summary.pass_k) == [1, 2, 3] and len(episodes[0]) == 3
    assert summary.task_success.value == 0.0 and summary.task_success.high < 1


async def test_a_request_for_a_person_the_customer_never_got_to_make_is_not_counted(tmp_path: Path) -> None:
    then_ask = {"say": ["can I speak to someone about an order?"], "expect": "handoff", "why": "asked"}
    never_fixes = Scripted(lambda last: Reply("Is the router on?"))
    score = score_episode(await run(never_fixes, scenario(tmp_path, HUB, then_ask, max_turns=2)), PASSAGES)
    assert not score.success and score.asked_and_handed is None
