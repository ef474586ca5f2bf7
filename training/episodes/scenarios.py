"""Support scenarios: what the customer wants, what they say, and what a correct conversation does.

A scenario is one line of JSONL (training/data/scenarios.jsonl; docs/evaluation.md describes the
format). It is a sequence of stages; the customer moves to the next stage once Sarah has done what the
current one expects:

- `answer`: Sarah answers and states every `required` fact (each a list of accepted wordings);
- `handoff`: Sarah hands the conversation to a person (`why`: refund, warranty, return, staff_only,
  asked, repeated_failure);
- `decline`: Sarah politely declines (`why`: off_topic, others_data, injection), and only declines.

`contradicts` lists wordings that a correct answer never contains (a neighbouring passage's number,
a false promise). The last stage's expectation is the scenario's right end: solved, handed off or
declined. Bad input is reported with the file and line before any model is asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPECTS = ("answer", "handoff", "decline")
HANDOFF_WHY = ("refund", "warranty", "return", "staff_only", "asked", "repeated_failure")
DECLINE_WHY = ("off_topic", "others_data", "injection")
AREAS = ("devices", "app", "plans", "billing", "warranty", "privacy", "account")
ENDS = {"answer": "solved", "handoff": "handed off", "decline": "declined"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact, with the wordings that count as stating it (any one is enough)."""

    label: str
    wordings: tuple[str, ...]

    def stated_in(self, text: str) -> bool:
        return any(_contains(text, w) for w in self.wordings)


def _contains(text: str, wording: str) -> bool:
    """`wording` in `text` as whole words, case and spacing ignored ("20" does not match "2026")."""
    words = [re.escape(w) for w in wording.split()]
    pattern = r"(?<![\w])" + r"\s+".join(words) + r"(?![\w])"
    return re.search(pattern, text, re.IGNORECASE) is not None


@dataclass(frozen=True, slots=True)
class Stage:
    say: tuple[str, ...]  # the customer's message(s) opening the stage
    expect: str  # answer | handoff | decline
    required: tuple[Fact, ...] = ()
    contradicts: tuple[Fact, ...] = ()
    follow_ups: tuple[str, ...] = ()  # what the customer says when the stage is not done yet
    why: str = ""
    kb: tuple[str, ...] = ()  # knowledge-base passages (`area/section`) that answer it

    def missing(self, said: str) -> list[Fact]:
        return [f for f in self.required if not f.stated_in(said)]


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    area: str
    goal: str
    stages: tuple[Stage, ...]
    max_turns: int  # the customer's messages within which the right end must be reached

    @property
    def end(self) -> str:
        return ENDS[self.stages[-1].expect]

    @property
    def why(self) -> str:
        return self.stages[-1].why

    def asks_for_person(self) -> bool:
        return any(s.expect == "handoff" and s.why == "asked" for s in self.stages)

    def is_injection(self) -> bool:
        return any(s.expect == "decline" and s.why == "injection" for s in self.stages)


def load_scenarios(path: Path, passages: Sequence[str] = ()) -> list[Scenario]:
    """Every scenario of a JSONL file; `passages` (knowledge-base ids) checks each stage's `kb`."""
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    known = set(passages)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise ScenarioError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        scenario = _scenario(raw, where, known)
        if scenario.id in seen:
            raise ScenarioError(f"{where}: the id {scenario.id!r} is used twice")
        seen.add(scenario.id)
        scenarios.append(scenario)
    if not scenarios:
        raise ScenarioError(f"{path}: no scenarios in the file")
    return scenarios


def _scenario(raw: Any, where: str, known: set[str]) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a scenario is a JSON object")
    for key in ("id", "area", "goal", "stages", "max_turns"):
        if key not in raw:
            raise ScenarioError(f"{where}: missing {key!r}")
    if raw["area"] not in AREAS:
        raise ScenarioError(f"{where}: area {raw['area']!r} is not one of {', '.join(AREAS)}")
    stages = raw["stages"]
    if not isinstance(stages, list) or not stages:
        raise ScenarioError(f"{where}: 'stages' must be a non-empty list")
    built = tuple(_stage(s, f"{where} stage {i + 1}", known) for i, s in enumerate(stages))
    turns = raw["max_turns"]
    if not isinstance(turns, int) or turns < len(built):
        raise ScenarioError(f"{where}: 'max_turns' must be a whole number of at least {len(built)} (one per stage)")
    return Scenario(str(raw["id"]), raw["area"], str(raw["goal"]), built, turns)


def _stage(raw: Any, where: str, known: set[str]) -> Stage:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a stage is a JSON object")
    say = raw.get("say")
    if not isinstance(say, list) or not say or not all(isinstance(s, str) and s.strip() for s in say):
        raise ScenarioError(f"{where}: 'say' must be a list of the customer's messages")
    expect = raw.get("expect")
    if expect not in EXPECTS:
        raise ScenarioError(f"{where}: 'expect' must be one of {', '.join(EXPECTS)}")
    why = raw.get("why", "")
    allowed = {"answer": ("",), "handoff": HANDOFF_WHY, "decline": DECLINE_WHY}[expect]
    if why not in allowed:
        raise ScenarioError(f"{where}: 'why' for {expect} must be one of {', '.join(allowed)}")
    required = _facts(raw.get("required", {}), where, "required")
    if expect == "answer" and not required:
        raise ScenarioError(f"{where}: an answer stage needs the 'required' facts a correct answer states")
    kb = tuple(raw.get("kb", ()))
    unknown = [k for k in kb if known and k not in known]
    if unknown:
        raise ScenarioError(f"{where}: unknown knowledge-base passage {unknown[0]!r}")
    follow_ups = raw.get("follow_ups", [])
    if not isinstance(follow_ups, list) or not all(isinstance(s, str) for s in follow_ups):
        raise ScenarioError(f"{where}: 'follow_ups' must be a list of messages")
    return Stage(
        say=tuple(say),
        expect=expect,
        required=required,
        contradicts=_facts(raw.get("contradicts", {}), where, "contradicts"),
        follow_ups=tuple(follow_ups),
        why=why,
        kb=kb,
    )


def _facts(raw: Any, where: str, key: str) -> tuple[Fact, ...]:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: {key!r} maps a fact's label to its accepted wordings")
    facts = []
    for label, wordings in raw.items():
        if isinstance(wordings, str):
            wordings = [wordings]
        if not isinstance(wordings, list) or not wordings or not all(isinstance(w, str) and w for w in wordings):
            raise ScenarioError(f"{where}: {key} fact {label!r} needs a list of wordings")
        facts.append(Fact(str(label), tuple(wordings)))
    return tuple(facts)
