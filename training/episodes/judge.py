"""An optional LLM judge of whole conversations: helpfulness and tone on a written rubric, and
pairwise preferences asked in both orders (a preference that flips with the order is position bias,
reported as such and counted as no preference).

The judge is any OpenAI-compatible model with its own base URL and key. Its grades never change task
success; the report shows how often the judge agrees with the rules, so a reader knows how far to
trust either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.model import Conversation, Model, Outcome, Turn
from training.episodes.runner import Episode
from training.episodes.stats import Estimate

RUBRIC = """You grade conversations between a customer and Sarah, ZenNest's smart-home support assistant.

Helpfulness (1-5):
5 the customer's need was met: correct steps or facts from ZenNest's documentation, or a prompt hand-off
  to a person when only staff can act (refunds, warranty claims, returns, account unlocks) or the customer
  asked for one, or a polite refusal of what is not ZenNest's business;
4 met, with a small gap or some unneeded text;
3 partly met: some right information, but the customer had to push or something important was missing;
2 mostly unhelpful: vague, off the point, or a hand-off/refusal where an answer was possible;
1 harmful or wrong: invented facts, claims to have done something Sarah cannot do, or answers a request it
  should have declined.
Tone (1-5): 5 warm, clear and concise; 3 acceptable but stiff, long-winded or repetitive; 1 rude, cold or
confusing.
Judge only what Sarah wrote. Ignore length except where it hurts clarity."""

POINTWISE = RUBRIC + '\n\nReply with only JSON: {"helpfulness": <1-5>, "tone": <1-5>, "reason": "<one sentence>"}'
PAIRWISE = (
    RUBRIC + "\n\nYou are shown the same customer goal handled in two conversations, FIRST and SECOND. Which "
    'handled it better by the rubric? Reply with only JSON: {"better": "first" | "second" | "tie", '
    '"reason": "<one sentence>"}'
)
_NUMBER = re.compile(r'"(helpfulness|tone)"\s*:\s*([1-5])')
_BETTER = re.compile(r'"better"\s*:\s*"(first|second|tie)"', re.IGNORECASE)


def transcript(episode: Episode) -> str:
    names = {"customer": "Customer", "sarah": "Sarah", "handoff": "Sarah (handing over to a person)"}
    return "\n".join(f"{names[line.speaker]}: {line.text}" for line in episode.lines)


@dataclass(frozen=True, slots=True)
class Grade:
    helpfulness: int
    tone: int


async def grade(judge: Model, episode: Episode) -> Grade | None:
    """The judge's grade of one conversation (None when it gave no readable grade or failed)."""
    question = f"Customer's goal: {episode.scenario.goal}\n\nConversation:\n{transcript(episode)}"
    text = await _ask(judge, POINTWISE, question)
    found = dict(_NUMBER.findall(text))
    if "helpfulness" not in found or "tone" not in found:
        return None
    return Grade(int(found["helpfulness"]), int(found["tone"]))


async def prefer(judge: Model, a: Episode, b: Episode) -> str | None:
    """ "a", "b" or "tie" when the judge says the same in both orders; None when the order changed its
    mind (position bias) or it gave no readable answer."""
    goal = f"Customer's goal: {a.scenario.goal}\n\n"
    first = await _ask(judge, PAIRWISE, f"{goal}FIRST:\n{transcript(a)}\n\nSECOND:\n{transcript(b)}")
    second = await _ask(judge, PAIRWISE, f"{goal}FIRST:\n{transcript(b)}\n\nSECOND:\n{transcript(a)}")
    one, two = _BETTER.search(first), _BETTER.search(second)
    if one is None or two is None:
        return None
    as_a = {"first": "a", "second": "b", "tie": "tie"}[one.group(1).lower()]
    swapped = {"first": "b", "second": "a", "tie": "tie"}[two.group(1).lower()]
    return as_a if as_a == swapped else None


async def _ask(judge: Model, system: str, question: str) -> str:
    try:
        reply = await judge.reply(Conversation(system=system, turns=(Turn("user", question),)))
    except Exception:  # a judge that fails grades nothing; the rules still stand
        return ""
    return reply.text if reply.outcome is Outcome.ANSWERED else ""


HELPFUL_FROM = 4  # a judge's helpfulness at or above this counts as "the need was met"


def pointwise_agreement(grades: Sequence[Grade | None], successes: Sequence[bool]) -> Estimate:
    """How often the judge's verdict (helpful or not) matches the rules' task success."""
    pairs = [(g.helpfulness >= HELPFUL_FROM, ok) for g, ok in zip(grades, successes, strict=True) if g is not None]
    return Estimate.of(sum(judged == ruled for judged, ruled in pairs), len(pairs))


def pairwise_agreement(preferences: Sequence[str | None], a_ok: Sequence[bool], b_ok: Sequence[bool]) -> Estimate:
    """Where the rules tell the two apart (one succeeded, the other not), how often the judge, asked in
    both orders, preferred the one the rules passed."""
    decided = [(p, "a" if ra else "b") for p, ra, rb in zip(preferences, a_ok, b_ok, strict=True) if ra != rb]
    return Estimate.of(sum(p == winner for p, winner in decided), len(decided))
