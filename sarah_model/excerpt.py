"""The few lines of a knowledge-base passage that answer a question: the steps, the price, the number.

A customer who asks how long a lock's batteries last wants "about 12 months", not the whole Batteries
section. A passage is cut into units (sentences, list items, a list's lead-in line); a "how do I / it
won't" question gets the numbered list that matches it best, whole; any other question gets the few
units that share the most (rare) words with it, in the passage's order. Lines Sarah already said in
the thread are skipped, so "what next?" moves on instead of repeating her.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sarah_model.retrieval import terms

MAX_FACT_UNITS = 3  # a fact answer: the best few sentences
LEAD_IN_CHARS = 250  # a longer line before a list is a paragraph of its own, not the list's introduction
MAX_STEPS = 9  # a list longer than this is cut after the best-matching items
SUBJECT_WEIGHT = 0.3  # a word of the passage's subject counts this much in a line's match
FACT_MIN_SHARE = 0.5  # a fact answer keeps the lines that match at least half as well as the best one
FACT_SHARE = 0.75  # a prose line joins the steps when it matches the question about as well as the best step

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(\"])")
_LIST_ITEM = re.compile(r"^\s*(?:\d+\.|-)\s")
_NUMBERED_ITEM = re.compile(r"^\s*\d+\.\s")
_HOW_TO = re.compile(
    r"\bhow (?:do|can|should|would) (?:i|we|you)\b|\bhow to\b|\bsteps?\b|\bwhat (?:should|do|can) (?:i|we) do\b|"
    r"\b(?:won'?t|doesn'?t|don'?t|isn'?t|aren'?t|can'?t|not|stopped|keeps?|fails?|failed|failing)\b|"
    r"\b(?:fix|set ?up|install|pair|connect|reconnect|reset|restart|add|change|replace|cancel|turn (?:on|off))\b|"
    r"\b(?:offline|unavailable|not responding|jammed|error|next)\b",
    re.I,
)
_WANTS_NUMBER = re.compile(
    r"\bhow (?:much|many|long|far|big|often|old|high|thick|low|wide|heavy)\b|\b(?:price|cost|costs|fee|limit|max|"
    r"maximum|min|minimum|range|capacity|percent|battery life|length|longest|size|"
    r"width|weight|radius|distance)\b|\bwhat (?:age|size|temperature)\b",
    re.I,
)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Unit:
    text: str
    line: int  # index of the source line (a list item and its lead-in are on neighbouring lines)
    list_id: int  # which list the unit belongs to, -1 for prose
    numbered: bool
    lead_in: bool  # the prose line that introduces a list ("If pairing fails:")
    terms: frozenset[str] = frozenset()  # its index terms, computed once with the passage's units


def units(passage_text: str) -> list[Unit]:
    """Sentences of prose lines, and list items whole; each list remembers its lead-in line."""
    out: list[Unit] = []
    list_id, previous_was_item = -1, False
    lines = [line for line in passage_text.splitlines() if line.strip()]
    for number, line in enumerate(lines):
        if _LIST_ITEM.match(line):
            if not previous_was_item:
                list_id += 1
                if (
                    out
                    and out[-1].line == number - 1
                    and out[-1].list_id == -1
                    and len(lines[number - 1]) <= LEAD_IN_CHARS
                ):
                    for i in range(len(out) - 1, -1, -1):  # the short line right before a list introduces it
                        if out[i].line != number - 1:
                            break
                        out[i] = Unit(out[i].text, out[i].line, list_id, False, True, out[i].terms)
            item = line.strip()
            out.append(Unit(item, number, list_id, bool(_NUMBERED_ITEM.match(line)), False, frozenset(terms(item))))
            previous_was_item = True
            continue
        previous_was_item = False
        for sentence in _SENTENCE_END.split(line.strip()):
            if sentence:
                out.append(Unit(sentence, number, -1, False, False, frozenset(terms(sentence))))
    return out


def excerpt(
    every: Sequence[Unit],
    question: str,
    idf: Mapping[str, float],
    already_said: Callable[[Unit], bool] = lambda _: False,
    subject_words: str = "",
) -> str:
    """The lines of a passage (its `units`) that answer `question`, in order; "" when all of them were said.

    `subject_words` name what the passage is about (its area, title and product): a question that asks
    nothing else ("what is ZenNest?") gets the passage's opening lines.
    """
    fresh = [u for u in every if not already_said(u)]
    if not fresh:
        return ""
    wanted = set(terms(question))
    subject = set(terms(subject_words))
    number_bonus = 1.0 if _WANTS_NUMBER.search(question) else 0.0

    def score(unit: Unit) -> float:
        # The passage's own subject ("ZenGlow", "bulb" in Lights) is in most of its lines: it tells little.
        value = sum(idf.get(t, 0.0) * (SUBJECT_WEIGHT if t in subject else 1.0) for t in wanted & unit.terms)
        return value + (number_bonus if value and _DIGIT.search(unit.text) else 0.0)

    scores = {id(u): score(u) for u in fresh}
    if _HOW_TO.search(question) and not number_bonus:  # "how long is the reset link valid?" wants a number
        steps = _best_numbered_list(fresh, scores)
        if steps:
            best_item = max(scores[id(u)] for u in steps)
            prose = [
                u
                for u in fresh
                if u.list_id == -1 and u not in steps and scores[id(u)] >= max(FACT_SHARE * best_item, 1e-9)
            ]
            if prose:  # a fact outside the list that matters as much as any step ("needs 30% battery")
                fact = max(prose, key=lambda u: (scores[id(u)], -every.index(u)))
                steps = sorted([*steps, fact], key=every.index)
            return "\n".join(u.text for u in steps)
    asked = {t for t in wanted - subject if any(t in u.terms for u in every)}
    if not asked:  # "what is ZenNest?", "tell me about the ZenLock": the passage's opening says what it is
        return _join(fresh[:MAX_FACT_UNITS])
    ranked = sorted(fresh, key=lambda u: (-scores[id(u)], every.index(u)))
    top = scores[id(ranked[0])]
    chosen = [u for u in ranked[:MAX_FACT_UNITS] if scores[id(u)] > 0 and scores[id(u)] >= FACT_MIN_SHARE * top]
    chosen = chosen or fresh[:2]
    keep = set(map(id, chosen))
    for unit in chosen:
        if unit.list_id < 0:
            continue
        if unit.lead_in:  # "These sizes are sold:" alone is nothing without its list (steps are not facts)
            members = [u for u in fresh if u.list_id == unit.list_id]
            if not any(u.numbered or id(u) in keep for u in members if not u.lead_in):
                keep.update(id(u) for u in members)
            continue
        lead = next((u for u in fresh if u.lead_in and u.list_id == unit.list_id), None)
        if lead is not None:  # a list item reads better after the line that introduces it
            keep.add(id(lead))
    return _join([u for u in fresh if id(u) in keep])


def _best_numbered_list(fresh: Sequence[Unit], scores: Mapping[int, float]) -> list[Unit]:
    """The numbered list (with its lead-in and the line right after it) that shares most with the question."""
    lists: dict[int, list[Unit]] = {}
    for unit in fresh:
        if unit.list_id >= 0:
            lists.setdefault(unit.list_id, []).append(unit)
    numbered = {i: members for i, members in lists.items() if any(u.numbered for u in members)}
    if not numbered:
        return []
    best = max(numbered, key=lambda i: (sum(scores[id(u)] for u in numbered[i]), -i))
    members = numbered[best]
    items = [u for u in members if not u.lead_in]
    if len(items) > MAX_STEPS:
        cut = sorted(items, key=lambda u: -scores[id(u)])[:MAX_STEPS]
        items = [u for u in items if u in cut]
    chosen = [u for u in members if u.lead_in] + items
    after = next((u for u in fresh if u.line == members[-1].line + 1 and u.list_id == -1), None)
    if after is not None and re.match(r"(?:If|While|Then|Afterwards)\b", after.text):
        chosen.append(after)  # "If it still fails, contact ZenNest support."
    return chosen


def _join(chosen: Sequence[Unit]) -> str:
    """Sentences of one source line stay on one line; list items each on their own."""
    lines: list[str] = []
    previous: Unit | None = None
    for unit in chosen:
        if previous is not None and previous.line == unit.line and unit.list_id == -1:
            lines[-1] += " " + unit.text
        else:
            lines.append(unit.text)
        previous = unit
    return "\n".join(lines)
