"""`sarah train episodes` and `sarah train gate`: play the scenarios against models, report, promote.

`play` and `promotion_gate` are the functions behind them, for other commands (`finetune` can call
`promotion_gate` before it records a new SARAH_MODEL). The simulated customer's model and the judge are
any OpenAI-compatible models, each with its own URL and key: SIMULATOR_API_KEY and JUDGE_API_KEY, never
OPENAI_API_KEY, so a key is only ever sent to the host it was made for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from config.errors import SettingsError, describe_validation_error
from config.settings import HandoffSettings, ModelSettings, TextSettings
from handlers.model import Model
from training.episodes.baselines import baselines
from training.episodes.gate import GateDecision, decide
from training.episodes.judge import grade, pairwise_agreement, pointwise_agreement, prefer
from training.episodes.report import JudgeFigures, as_json, console_lines, render
from training.episodes.runner import Episode, EpisodeRunner
from training.episodes.scenarios import Scenario, ScenarioError, load_scenarios
from training.episodes.scoring import Summary, score_episode, summarise
from training.episodes.simulator import Customer, LLMCustomer, ScriptedCustomer
from training.paths import DATA_DIR

KNOWLEDGE_FILE = DATA_DIR / "knowledge_base.md"
CONCURRENCY = 4
G = TypeVar("G", bound=BaseSettings)


# -- the work --------------------------------------------------------------------------------------------


async def play(
    model: Model,
    scenarios: Sequence[Scenario],
    passages: dict[str, str],
    *,
    tries: int,
    customer: Customer,
    label: str = "",
    texts: TextSettings | None = None,
    handoff_after_failures: int = 3,
) -> tuple[Summary, list[list[Episode]]]:
    """Every scenario `tries` times through the pipeline on an in-memory Redis, scored."""
    from fakeredis import FakeAsyncRedis

    redis = FakeAsyncRedis()
    runner = EpisodeRunner(redis, model, customer, texts=texts, handoff_after_failures=handoff_after_failures)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(scenario: Scenario) -> Episode:
        async with gate:
            return await runner.run(scenario)

    try:
        played = await asyncio.gather(*(one(s) for s in scenarios for _ in range(tries)))
        episodes = [list(played[i * tries : (i + 1) * tries]) for i in range(len(scenarios))]
    finally:
        await redis.aclose()
    scores = [[score_episode(e, passages) for e in task] for task in episodes]
    return summarise(label or getattr(model, "name", "model"), scenarios, scores), episodes


async def promotion_gate(
    candidate: Model,
    current: Model,
    scenarios: Sequence[Scenario],
    passages: dict[str, str],
    *,
    tries: int = 3,
    customer: Customer | None = None,
    labels: tuple[str, str] = ("current", "candidate"),
) -> tuple[GateDecision, Summary, Summary]:
    """Play the scenarios with both models and decide whether the candidate may replace the current one."""
    customer = customer or ScriptedCustomer()
    now, _ = await play(current, scenarios, passages, tries=tries, customer=customer, label=labels[0])
    new, _ = await play(candidate, scenarios, passages, tries=tries, customer=customer, label=labels[1])
    return decide(now, new), now, new


# -- commands --------------------------------------------------------------------------------------------


def run_episodes(args: argparse.Namespace) -> int:
    from training.model_specs import SpecError, parse_spec

    try:
        scenarios, passages = _scenarios(args)
        specs = [parse_spec(s) for s in (args.model or ["offline"])]
        texts, handoff, model_settings = _group(TextSettings), _group(HandoffSettings), _group(ModelSettings)
    except (ScenarioError, SpecError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    judge_spec = _url_model(args.judge, "--judge") if args.judge else None
    knowledge = KNOWLEDGE_FILE.read_text(encoding="utf-8")

    async def run() -> tuple[list[Summary], list[Summary], JudgeFigures | None, str]:
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            customer = _customer(args, closers)
            models = [_build(spec, model_settings.model_temperature, closers) for spec in specs]
            results = []
            for spec, model in zip(specs, models, strict=True):
                print(f"Playing {len(scenarios)} scenarios × {args.tries} with {spec.label} …", file=sys.stderr)
                results.append(
                    await play(
                        model,
                        scenarios,
                        passages,
                        tries=args.tries,
                        customer=customer,
                        label=spec.label,
                        texts=texts,
                        handoff_after_failures=handoff.handoff_after_failures,
                    )
                )
            base = [
                (
                    await play(
                        b,
                        scenarios,
                        passages,
                        tries=args.tries,
                        customer=ScriptedCustomer(),
                        texts=texts,
                        handoff_after_failures=handoff.handoff_after_failures,
                    )
                )[0]
                for b in baselines(knowledge)
            ]
            judged = None
            if judge_spec is not None:
                judge = _openai_compatible(judge_spec, "JUDGE_API_KEY", closers, temperature=0.0)
                judged = await _judge(judge, judge_spec[1], results)
            return [s for s, _ in results], base, judged, _customer_label(args, customer)
        finally:
            for close in closers:
                await close()

    try:
        summaries, base, judged, customer_name = asyncio.run(run())
    except (SettingsError, SpecError) as error:
        print(error, file=sys.stderr)
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        render(str(_short(args.scenarios)), scenarios, summaries, base, customer=customer_name, judge=judged),
        encoding="utf-8",
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"models": [as_json(s) for s in summaries], "baselines": [as_json(s) for s in base]}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    for line in console_lines(summaries, base):
        print(line)
    print(f"Report: {args.report}")
    return 0


def run_gate(args: argparse.Namespace) -> int:
    from training.envfile import set_env_value
    from training.model_specs import SpecError, parse_spec

    try:
        scenarios, passages = _scenarios(args)
        model_settings = _group(ModelSettings)
        candidate_spec = parse_spec(args.candidate)
        current_spec = parse_spec(args.current or _configured_spec(model_settings))
    except (ScenarioError, SpecError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    if candidate_spec.kind == "offline":
        print("The offline model has no model id to record: unset OPENAI_API_KEY and OPENAI_BASE_URL to use it.")
        return 2

    async def run() -> tuple[GateDecision, Summary, Summary]:
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            customer = _customer(args, closers)
            current = _build(current_spec, model_settings.model_temperature, closers)
            candidate = _build(candidate_spec, model_settings.model_temperature, closers)
            return await promotion_gate(
                candidate,
                current,
                scenarios,
                passages,
                tries=args.tries,
                customer=customer,
                labels=(current_spec.label, candidate_spec.label),
            )
        finally:
            for close in closers:
                await close()

    try:
        decision, _, _ = asyncio.run(run())
    except (SettingsError, SpecError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Current: {current_spec.label}   Candidate: {candidate_spec.label}")
    customer = args.simulator.rpartition("#")[2] if args.simulator else "scripted"
    print(f"{len(scenarios)} scenarios × {args.tries} tries each, simulated customer: {customer}")
    for line in decision.lines():
        print(line)
    model_id = candidate_spec.model or Path(candidate_spec.path).name
    if not decision.promote and not args.force_promote:
        print(f"Not promoted: SARAH_MODEL in {args.env_file} is unchanged (--force-promote records it anyway).")
        return 1
    set_env_value(args.env_file, "SARAH_MODEL", model_id)
    forced = " despite the gate (--force-promote)" if not decision.promote else ""
    print(f"Recorded SARAH_MODEL={model_id} in {args.env_file}{forced}: restart Sarah to use it.")
    return 0


# -- helpers ---------------------------------------------------------------------------------------------


def _scenarios(args: argparse.Namespace) -> tuple[list[Scenario], dict[str, str]]:
    from sarah_model.knowledge import load_knowledge_base

    if args.tries < 1:
        raise ValueError("--tries must be at least 1")
    passages = {p.id: p.text for p in load_knowledge_base()}
    scenarios = load_scenarios(args.scenarios, list(passages))
    return (scenarios[: args.limit] if args.limit else scenarios), passages


def _group(group: type[G]) -> G:
    try:
        return group(_env_file=".env")
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


def _configured_spec(settings: ModelSettings) -> str:
    if settings.offline:
        return "offline"
    if settings.openai_base_url:
        return f"url:{settings.openai_base_url}#{settings.sarah_model}"
    return f"openai:{settings.sarah_model}"


def _build(spec: Any, temperature: float, closers: list[Callable[[], Awaitable[None]]]) -> Model:
    """The model a spec names, at the bot's configured temperature (pass^k is about that)."""
    from config.training import load_training_settings
    from sarah_model.openai_chat import OpenAIChatModel
    from training.model_specs import build_model

    model = build_model(spec, load_training_settings(), closers)
    if isinstance(model, OpenAIChatModel):
        return OpenAIChatModel(model.client, model.name, temperature=temperature)
    return model


def _url_model(value: str, flag: str) -> tuple[str, str]:
    base_url, _, model = value.rpartition("#")
    if not base_url.startswith(("http://", "https://")) or not model:
        raise SettingsError([f"{flag}: use <base_url>#<model>, e.g. https://api.openai.com/v1#gpt-4.1-mini"])
    return base_url, model


def _openai_compatible(
    target: tuple[str, str], key_name: str, closers: list[Callable[[], Awaitable[None]]], *, temperature: float
) -> Model:
    from openai import AsyncOpenAI

    from sarah_model.openai_chat import OpenAIChatModel

    key = os.environ.get(key_name, "")
    client = AsyncOpenAI(api_key=key or "not-needed", base_url=target[0], timeout=45, max_retries=1)
    closers.append(client.close)
    return OpenAIChatModel(client, target[1], temperature=temperature)


def _customer(args: argparse.Namespace, closers: list[Callable[[], Awaitable[None]]]) -> Customer:
    if not args.simulator:
        return ScriptedCustomer()
    target = _url_model(args.simulator, "--simulator")
    return LLMCustomer(_openai_compatible(target, "SIMULATOR_API_KEY", closers, temperature=0.7))


def _customer_label(args: argparse.Namespace, customer: Customer) -> str:
    if not isinstance(customer, LLMCustomer):
        return "scripted"
    return (
        f"{args.simulator.rpartition('#')[2]} (an LLM; {customer.fallbacks} follow-ups fell back to the "
        "scripted line after a failed call)"
    )


async def _judge(judge: Model, label: str, results: list[tuple[Summary, list[list[Episode]]]]) -> JudgeFigures:
    figures = JudgeFigures(label)
    for summary, episodes in results:
        firsts = [task[0] for task in episodes]
        grades = list(await asyncio.gather(*(grade(judge, e) for e in firsts)))
        given = [g for g in grades if g is not None]
        figures.helpfulness[summary.label] = sum(g.helpfulness for g in given) / len(given) if given else 0.0
        figures.tone[summary.label] = sum(g.tone for g in given) / len(given) if given else 0.0
        figures.agreement[summary.label] = pointwise_agreement(grades, [t[0].success for t in summary.scores])
    if len(results) >= 2:
        (a, a_eps), (b, b_eps) = results[0], results[1]
        preferences = list(
            await asyncio.gather(*(prefer(judge, x[0], y[0]) for x, y in zip(a_eps, b_eps, strict=True)))
        )
        a_ok, b_ok = [t[0].success for t in a.scores], [t[0].success for t in b.scores]
        figures.pairwise = pairwise_agreement(preferences, a_ok, b_ok)
        figures.position_bias = (sum(p is None for p in preferences), len(preferences))
    return figures


def _short(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
