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
import html
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.model import Conversation, Model, Outcome, Reply, Turn
from handlers.prompt import SYSTEM_PROMPT
from training.scoring import ItemScore, Scores, aggregate, score_item

CONCURRENCY = 4
SPEC_HELP = "offline | openai:<model> | url:<base_url>#<model> | local:<adapter dir>"


class SpecError(ValueError):
    """A model spec that cannot be understood; the message says the accepted forms."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: str  # offline | openai | url | local
    model: str = ""
    base_url: str = ""
    path: str = ""

    @property
    def label(self) -> str:
        return {"offline": "offline", "openai": f"openai:{self.model}", "url": f"{self.model} @ {self.base_url}",
                "local": f"local:{self.path}"}[self.kind]


def parse_spec(spec: str) -> ModelSpec:
    """`offline`, `openai:<model>`, `url:<base_url>#<model>` or `local:<adapter dir>`."""
    kind, _, rest = spec.strip().partition(":")
    if kind == "offline" and not rest:
        return ModelSpec("offline")
    if kind == "openai" and rest:
        return ModelSpec("openai", model=rest)
    if kind == "url":
        base_url, _, model = rest.rpartition("#")
        if base_url.startswith(("http://", "https://")) and model:
            return ModelSpec("url", model=model, base_url=base_url)
    if kind == "local" and rest:
        return ModelSpec("local", path=rest)
    raise SpecError(f"cannot read the model spec {spec!r}: use {SPEC_HELP}")


def build_model(spec: ModelSpec, settings: Any, closers: list[Callable[[], Awaitable[None]]] | None = None) -> Model:
    """The Model a spec names; heavy imports happen only for the kind asked for.

    The HTTP clients it opens are added to `closers`, to be awaited when the comparison is done.
    """
    if spec.kind == "offline":
        from bot.models.offline import OfflineModel

        offline: Model = OfflineModel.from_knowledge_base()
        return offline
    if spec.kind == "local":
        try:
            from training.local import LocalAdapterModel
        except ImportError:
            raise SpecError("local:… needs the [local] extra: pip install 'sarah-zennest[local]'") from None
        model: Model = LocalAdapterModel(Path(spec.path))
        return model
    from openai import AsyncOpenAI

    from bot.models.openai_chat import OpenAIChatModel

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if spec.kind == "openai":
        if key is None and settings.openai_base_url is None:
            raise SpecError(f"{spec.label} needs OPENAI_API_KEY (or OPENAI_BASE_URL)")
        client = AsyncOpenAI(api_key=key or "not-needed", base_url=settings.openai_base_url, timeout=45)
    else:
        client = AsyncOpenAI(api_key=key or "not-needed", base_url=spec.base_url, timeout=45)
    if closers is not None:
        closers.append(client.close)
    return OpenAIChatModel(client, spec.model, temperature=0.0)


def load_eval_items(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items[:limit] if limit else items


def conversation_of(item: dict[str, Any]) -> Conversation:
    """The item's turns behind the bot's system prompt (a past hand-off turn becomes empty text)."""
    turns = tuple(
        Turn(role=m["role"], content=m.get("content") or "")
        for m in item["messages"]
        if m.get("role") in ("user", "assistant")
    )
    return Conversation(system=SYSTEM_PROMPT, turns=turns)


async def ask_all(model: Model, items: Sequence[dict[str, Any]], concurrency: int = CONCURRENCY) -> list[Reply]:
    """Every item's reply, a few at a time; a model that raises counts as unavailable."""
    gate = asyncio.Semaphore(concurrency)

    async def ask(item: dict[str, Any]) -> Reply:
        async with gate:
            try:
                return await model.reply(conversation_of(item))
            except Exception as error:  # one bad answer must not lose the whole comparison
                return Reply(text="", outcome=Outcome.UNAVAILABLE, reason=type(error).__name__)

    return list(await asyncio.gather(*(ask(item) for item in items)))


JUDGE_PROMPT = (
    "You grade answers of Sarah, ZenNest's customer-support assistant. Given the conversation, what a good "
    "answer does, the relevant knowledge-base text and Sarah's answer, reply with only JSON: "
    '{"score": <1-5>, "reason": "<one sentence>"}. 5: correct, grounded in the knowledge base, follows the '
    "expected behaviour (hand off / decline / answer). 1: wrong, invented, or the opposite behaviour."
)


async def judge_all(judge: Model, items: Sequence[dict[str, Any]], replies: Sequence[Reply],
                    passages: dict[str, str]) -> list[float | None]:
    """The judge's 1–5 grade of each reply (None when it gave no readable grade)."""
    async def grade(item: dict[str, Any], reply: Reply) -> float | None:
        answer = f"[hand-off: {reply.reason}] {reply.summary}" if reply.outcome is Outcome.HANDOFF else reply.text
        payload = json.dumps({
            "conversation": item["messages"], "expected": item.get("expect", {}),
            "knowledge": [passages[i] for i in item.get("expect", {}).get("kb_ids", []) if i in passages],
            "answer": answer,
        }, ensure_ascii=False)
        verdict = await judge.reply(Conversation(system=JUDGE_PROMPT, turns=(Turn("user", payload),)))
        match = re.search(r'"score"\s*:\s*([1-5](?:\.\d+)?)', verdict.text or "")
        return float(match.group(1)) if match else None

    return list(await asyncio.gather(*(grade(i, r) for i, r in zip(items, replies, strict=True))))


@dataclass(slots=True)
class Side:
    label: str
    replies: list[Reply]
    item_scores: list[ItemScore]
    scores: Scores


async def compare(
    a: Model, b: Model, items: list[dict[str, Any]], passages: dict[str, str], *,
    labels: tuple[str, str], judge: Model | None = None,
) -> tuple[Side, Side]:
    """Ask both models every item and score them."""
    sides = []
    for model, label in ((a, labels[0]), (b, labels[1])):
        replies = await ask_all(model, items)
        item_scores = [score_item(item, reply, passages) for item, reply in zip(items, replies, strict=True)]
        judged = await judge_all(judge, items, replies, passages) if judge is not None else None
        sides.append(Side(label, replies, item_scores, aggregate(items, item_scores, judged)))
    return sides[0], sides[1]


# -- reports ---------------------------------------------------------------------------------------


def _answer_text(reply: Reply) -> str:
    if reply.outcome is Outcome.HANDOFF:
        return f"→ hand-off ({reply.reason}): {reply.summary}".strip() + (f"\n{reply.text}" if reply.text else "")
    if reply.outcome is Outcome.UNAVAILABLE:
        return f"(unavailable: {reply.reason})"
    return reply.text


def _flags(score: ItemScore, item: dict[str, Any]) -> list[str]:
    expect = item.get("expect", {})
    flags = []
    if expect.get("handoff") != score.handed_off:
        flags.append("missed hand-off" if expect.get("handoff") else "needless hand-off")
    if expect.get("refuse") and not score.refused:
        flags.append("did not decline")
    if score.claims:
        flags.append("invented action: " + "; ".join(score.claims))
    if not score.on_topic:
        flags.append("off-topic")
    if score.keyword_recall is not None and score.keyword_recall < 1:
        flags.append(f"keywords {score.keyword_recall:.0%}")
    return flags


def _last_user(item: dict[str, Any]) -> str:
    """The customer's last message; earlier turns are noted, not shown (the report stays readable)."""
    users = [m.get("content") or "" for m in item["messages"] if m.get("role") == "user"]
    earlier = len(item["messages"]) - 1
    return (f"(after {earlier} earlier turns) " if earlier else "") + (users[-1] if users else "")


def render_markdown(a: Side, b: Side, items: list[dict[str, Any]], title: str) -> str:
    def cell(text: str) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")

    lines = [f"# {title}", "", f"A: **{a.label}** · B: **{b.label}** · {len(items)} held-out items", "",
             "| Score | A | B |", "|---|---|---|"]
    for (label, rate_a, _), (_, rate_b, _) in zip(a.scores.rows(), b.scores.rows(), strict=True):
        lines.append(f"| {label} | {rate_a} | {rate_b} |")
    lines += ["", "## Answers", "", "| Item | Customer | A | B |", "|---|---|---|---|"]
    for index, item in enumerate(items):
        expect = item.get("expect", {})
        wanted = "hand off" if expect.get("handoff") else "decline" if expect.get("refuse") else "answer"
        cells = []
        for side in (a, b):
            flags = _flags(side.item_scores[index], item)
            warning = f"<br>_⚠ {cell(', '.join(flags))}_" if flags else ""
            cells.append(cell(_answer_text(side.replies[index])) + warning)
        lines.append(f"| {cell(item['id'])}<br>{cell(item.get('category', ''))}<br>expect: {wanted} | "
                     f"{cell(_last_user(item))} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def render_html(a: Side, b: Side, items: list[dict[str, Any]], title: str) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><th>{esc(label)}</th><td>{esc(str(ra))}</td><td>{esc(str(rb))}</td></tr>"
        for (label, ra, _), (_, rb, _) in zip(a.scores.rows(), b.scores.rows(), strict=True)
    )
    answers = []
    for index, item in enumerate(items):
        expect = item.get("expect", {})
        wanted = "hand off" if expect.get("handoff") else "decline" if expect.get("refuse") else "answer"
        cells = []
        for side in (a, b):
            flags = _flags(side.item_scores[index], item)
            flag_html = f'<p class="flag">⚠ {esc(", ".join(flags))}</p>' if flags else ""
            cells.append(f"<td><div class=answer>{esc(_answer_text(side.replies[index]))}</div>{flag_html}</td>")
        answers.append(f"<tr><td><b>{esc(item['id'])}</b><br>{esc(item.get('category', ''))}<br>expect: {wanted}</td>"
                       f"<td>{esc(_last_user(item))}</td>{''.join(cells)}</tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}}
.answer{{white-space:pre-wrap}}.flag{{color:#a40;margin:.3rem 0 0}}</style></head>
<body><h1>{esc(title)}</h1><p>A: <b>{esc(a.label)}</b> · B: <b>{esc(b.label)}</b> · {len(items)} held-out items</p>
<table><tr><th>Score</th><th>A</th><th>B</th></tr>{rows}</table>
<h2>Answers</h2><table><tr><th>Item</th><th>Customer</th><th>A</th><th>B</th></tr>{''.join(answers)}</table>
</body></html>
"""


def write_report(path: Path, a: Side, b: Side, items: list[dict[str, Any]]) -> Path:
    """Markdown or HTML by the file's extension, plus the scores as JSON next to it."""
    title = f"Sarah evaluation, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(render_html(a, b, items, title), encoding="utf-8")
    else:
        path.write_text(render_markdown(a, b, items, title), encoding="utf-8")
    scores = {side.label: {label: rate.value for label, rate, _ in side.scores.rows()} for side in (a, b)}
    path.with_suffix(".json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    return path


# -- command ---------------------------------------------------------------------------------------


def run_evaluate(args: argparse.Namespace) -> int:
    from config.training import load_training_settings
    from training.knowledge import load_knowledge_base

    try:
        specs = [parse_spec(args.a), parse_spec(args.b)]
        judge_spec = parse_spec(args.judge) if args.judge else None
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    settings = load_training_settings()
    items = load_eval_items(args.eval_file, args.limit)
    passages = {p.id: p.text for p in load_knowledge_base()}

    async def evaluate() -> tuple[Side, Side]:
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            a_model, b_model = (build_model(spec, settings, closers) for spec in specs)
            judge = build_model(judge_spec, settings, closers) if judge_spec else None
            return await compare(a_model, b_model, items, passages, labels=(specs[0].label, specs[1].label),
                                 judge=judge)
        finally:
            for close in closers:
                await close()

    try:
        a, b = asyncio.run(evaluate())
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    write_report(args.report, a, b, items)
    width = max(len(label) for label, _, _ in a.scores.rows())
    print(f"{'':{width}}  A: {a.label}  |  B: {b.label}")
    for (label, rate_a, _), (_, rate_b, _) in zip(a.scores.rows(), b.scores.rows(), strict=True):
        print(f"{label:{width}}  {rate_a!s:>16}  {rate_b!s:>16}")
    print(f"Report: {args.report}")
    return 0
