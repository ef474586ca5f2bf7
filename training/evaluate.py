"""`sarah train evaluate`: two models side by side on the held-out set, scored, into a report.

The held-out set (`training/data/eval.jsonl`) never enters training or validation. Each item is
sent to both models with the bot's own system prompt, so what is measured is what customers get.
Either side can be the offline model, an OpenAI model, any OpenAI-compatible server, or a local
adapter: base vs tuned works on every backend. Scoring is by rules (`training.scoring`); an LLM
judge can add its own grade when an API is configured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from handlers.model import Conversation, Model, Outcome, Reply, Turn
from handlers.prompt import SYSTEM_PROMPT
from training.episodes.scoring import task_success
from training.eval_items import EvalFileError, load_eval_items
from training.item_results import ExtraRates, ItemResult
from training.scoring import Side, aggregate_pair, score_item

CONCURRENCY = 4

__all__ = ["ask_all", "compare", "conversation_of", "judge_all", "load_eval_items", "run_evaluate"]


class Advances(Protocol):
    """Told once per answer received (`training.eval_progress.EvalProgress`)."""

    def advance(self) -> None: ...


def conversation_of(item: dict[str, Any]) -> Conversation:
    """The item's turns behind the bot's system prompt (a past hand-off turn becomes empty text)."""
    turns = tuple(
        Turn(role=m["role"], content=m.get("content") or "")
        for m in item["messages"]
        if m.get("role") in ("user", "assistant")
    )
    return Conversation(system=SYSTEM_PROMPT, turns=turns)


async def ask_all(
    model: Model,
    items: Sequence[dict[str, Any]],
    concurrency: int = CONCURRENCY,
    progress: Advances | None = None,
) -> list[Reply]:
    """Every item's reply, a few at a time; a model that raises counts as unavailable."""
    gate = asyncio.Semaphore(concurrency)

    async def ask(item: dict[str, Any]) -> Reply:
        async with gate:
            try:
                return await model.reply(conversation_of(item))
            except Exception as error:  # one bad answer must not lose the whole comparison
                return Reply(text="", outcome=Outcome.UNAVAILABLE, reason=type(error).__name__)
            finally:
                if progress is not None:
                    progress.advance()

    return list(await asyncio.gather(*(ask(item) for item in items)))


JUDGE_PROMPT = (
    "You grade answers of Sarah, ZenNest's customer-support assistant. Given the conversation, what a good "
    "answer does, the relevant knowledge-base text and Sarah's answer, reply with only JSON: "
    '{"score": <1-5>, "reason": "<one sentence>"}. 5: correct, grounded in the knowledge base, follows the '
    "expected behaviour (hand off / decline / answer). 1: wrong, invented, or the opposite behaviour."
)


async def judge_all(
    judge: Model, items: Sequence[dict[str, Any]], replies: Sequence[Reply], passages: dict[str, str]
) -> list[float | None]:
    """The judge's 1–5 grade of each reply (None when it gave no readable grade)."""

    async def grade(item: dict[str, Any], reply: Reply) -> float | None:
        answer = f"[hand-off: {reply.reason}] {reply.summary}" if reply.outcome is Outcome.HANDOFF else reply.text
        payload = json.dumps(
            {
                "conversation": item["messages"],
                "expected": item.get("expect", {}),
                "knowledge": [passages[i] for i in item.get("expect", {}).get("kb_ids", []) if i in passages],
                "answer": answer,
            },
            ensure_ascii=False,
        )
        verdict = await judge.reply(Conversation(system=JUDGE_PROMPT, turns=(Turn("user", payload),)))
        match = re.search(r'"score"\s*:\s*([1-5](?:\.\d+)?)', verdict.text or "")
        return float(match.group(1)) if match else None

    return list(await asyncio.gather(*(grade(i, r) for i, r in zip(items, replies, strict=True))))


async def compare(
    a: Model,
    b: Model,
    items: list[dict[str, Any]],
    passages: dict[str, str],
    *,
    labels: tuple[str, str],
    judge: Model | None = None,
    progress: Advances | None = None,
) -> tuple[Side, Side]:
    """Ask both models every item and score them on the same items (see `training.scoring`)."""
    asked = []
    for model in (a, b):
        replies = await ask_all(model, items, progress=progress)
        item_scores = [score_item(item, reply, passages) for item, reply in zip(items, replies, strict=True)]
        judged = await judge_all(judge, items, replies, passages) if judge is not None else None
        asked.append((replies, item_scores, judged))
    scores = aggregate_pair(items, [s for _, s, _ in asked], [j for _, _, j in asked])
    return (Side(labels[0], asked[0][0], asked[0][1], scores[0]), Side(labels[1], asked[1][0], asked[1][1], scores[1]))


# -- command ---------------------------------------------------------------------------------------


def run_evaluate(args: argparse.Namespace) -> int:
    from config.training import load_training_settings
    from sarah_model.knowledge import load_knowledge_base
    from training.model_specs import SpecError, build_model, parse_spec

    try:
        specs = [parse_spec(args.a), parse_spec(args.b)]
        judge_spec = parse_spec(args.judge) if args.judge else None
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    try:  # every bad line is reported before a single (paid) model call
        items = load_eval_items(args.eval_file, args.limit)
    except EvalFileError as error:
        print(f"{args.eval_file} cannot be evaluated; no model was asked:", file=sys.stderr)
        print(error, file=sys.stderr)
        return 1
    settings = load_training_settings()
    passages = {p.id: p.text for p in load_knowledge_base()}
    from training.eval_progress import EvalProgress

    progress = EvalProgress(total=2 * len(items))

    async def evaluate() -> tuple[Side, Side]:
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            a_model, b_model = (build_model(spec, settings, closers) for spec in specs)
            judge = build_model(judge_spec, settings, closers) if judge_spec else None
            return await compare(
                a_model,
                b_model,
                items,
                passages,
                labels=(specs[0].label, specs[1].label),
                judge=judge,
                progress=progress,
            )
        finally:
            progress.close()
            for close in closers:
                await close()

    try:
        a, b = asyncio.run(evaluate())
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    from training.evaluate_report import write_report
    from training.item_results import side_results, write_item_results

    extra = (task_success_rates(items, passages),)
    write_report(args.report, a, b, items, json_path=getattr(args, "json", None), extra_rates=extra)
    rows = [*side_results("a", a, items), *side_results("b", b, items)]
    item_files = write_item_results(args.report, rows)
    width = max(len(label) for label, _, _ in a.scores.rows())
    print(f"{'':{width}}  A: {a.label}  |  B: {b.label}  (hits/items; the same items for A and B)")
    for (label, rate_a, _), (_, rate_b, _) in zip(a.scores.rows(), b.scores.rows(), strict=True):
        print(f"{label:{width}}  {rate_a!s:>16}  {rate_b!s:>16}")
    for (label, count_a), (_, count_b) in zip(a.scores.handoff.rows(), b.scores.handoff.rows(), strict=True):
        print(f"{label:{width}}  {count_a:>16}  {count_b:>16}")
    print(f"Report: {args.report}")
    print(f"Per-item results: {item_files[0]} and {item_files[1]}")
    if getattr(args, "json", None):
        print(f"Rates as JSON: {args.json}")
    return 0


def task_success_rates(items: Sequence[dict[str, Any]], passages: dict[str, str]) -> ExtraRates:
    """`task_success` per side (training/episodes/scoring.py): required facts stated, nothing
    contradicted, within a length bound of the cited passages, and the right end (answer, hand off,
    decline), over the items whose call did not fail."""
    by_id = {str(item["id"]): item for item in items}

    def rates(rows: list[ItemResult]) -> dict[str, float | None]:
        replies = [Reply(r.answer, Outcome(r.outcome), r.handoff_reason, r.handoff_summary) for r in rows]
        return {"task_success": task_success([by_id[r.id] for r in rows], replies, passages)}

    return rates
