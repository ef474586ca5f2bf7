"""The scenario sets Sarah is measured on: large enough, covering the knowledge base and every right
end, and a file with a mistake is reported with its line before any model is asked."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from sarah_model.knowledge import load_knowledge_base
from training.episodes.scenarios import AREAS, DECLINE_WHY, HANDOFF_WHY, ScenarioError, load_scenarios
from training.paths import DATA_DIR

PASSAGES = [p.id for p in load_knowledge_base()]


@pytest.mark.parametrize("name", ["scenarios.jsonl", "scenarios_blind.jsonl"])
def test_the_shipped_scenario_sets_load_and_cite_real_passages(name: str) -> None:
    scenarios = load_scenarios(DATA_DIR / name, PASSAGES)
    assert len({s.id for s in scenarios}) == len(scenarios)


def test_the_main_set_covers_every_area_every_end_and_every_reason() -> None:
    scenarios = load_scenarios(DATA_DIR / "scenarios.jsonl", PASSAGES)
    assert len(scenarios) >= 60
    assert set(Counter(s.area for s in scenarios)) == set(AREAS)
    assert set(Counter(s.end for s in scenarios)) == {"solved", "handed off", "declined"}
    reasons = {stage.why for s in scenarios for stage in s.stages}
    assert set(HANDOFF_WHY) | set(DECLINE_WHY) <= reasons
    assert sum(len(s.stages) > 1 for s in scenarios) >= 15  # conversations, not single questions


def test_the_blind_set_shares_no_scenario_or_opening_with_the_main_set() -> None:
    main = load_scenarios(DATA_DIR / "scenarios.jsonl", PASSAGES)
    blind = load_scenarios(DATA_DIR / "scenarios_blind.jsonl", PASSAGES)
    assert not {s.id for s in main} & {s.id for s in blind}
    openings = {line.lower() for s in main for line in s.stages[0].say}
    assert not openings & {line.lower() for s in blind for line in s.stages[0].say}


GOOD = (
    '{"id": "x", "area": "devices", "goal": "g", "max_turns": 2, "stages": [{"say": ["hi"], "expect": "answer", '
    '"required": {"restart": ["3 seconds"]}, "kb": ["hub/offline"]}]}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", ":2: not JSON"),
        (GOOD.replace('"area": "devices"', '"area": "cars"'), ":2: area 'cars' is not one of"),
        (GOOD.replace('"expect": "answer"', '"expect": "maybe"'), ":2 stage 1: 'expect' must be one of"),
        (GOOD.replace('"hub/offline"', '"hub/nowhere"'), "unknown knowledge-base passage 'hub/nowhere'"),
        (GOOD.replace(', "required": {"restart": ["3 seconds"]}', ""), "needs the 'required' facts"),
        (GOOD.replace('"max_turns": 2', '"max_turns": 0'), "'max_turns' must be a whole number of at least 1"),
        (GOOD.replace('"expect": "answer"', '"expect": "handoff", "why": "bored"'), "'why' for handoff must be"),
        (GOOD, "the id 'x' is used twice"),
    ],
)
def test_a_broken_scenario_is_reported_with_its_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "scenarios.jsonl"
    path.write_text(GOOD + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(message)) as caught:
        load_scenarios(path, PASSAGES)
    assert str(caught.value).startswith(f"{path}:")


def test_an_empty_scenario_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no scenarios"):
        load_scenarios(path, PASSAGES)


def test_a_fact_is_stated_only_as_whole_words(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(GOOD, encoding="utf-8")
    fact = load_scenarios(path, PASSAGES)[0].stages[0].required[0]
    assert fact.stated_in("Hold it for 3  seconds.")
    assert not fact.stated_in("Hold it for 13 seconds.")
