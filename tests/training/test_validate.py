"""`sarah train validate`: each kind of bad data is caught, named by category and `file:line`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from handlers.prompt import SYSTEM_PROMPT
from tests.training.conftest import dataset, example, write_lines
from training.cli import main
from training.examples import OBJECTIVES
from training.tokens import billed_tokens, default_epochs
from training.validate import validate_files

DATA = Path(__file__).resolve().parents[2] / "training" / "data"


def _broken(mutate: Any) -> dict[str, Any]:
    bad = copy.deepcopy(example(99))
    mutate(bad)
    return bad


CASES: list[tuple[str, Any]] = [
    ("data_type", ["not", "an", "object"]),
    ("missing_messages_list", {"objective": "knowledge", "messages": []}),
    ("message_missing_key", _broken(lambda e: e["messages"][1].pop("role"))),
    ("message_unrecognized_key", _broken(lambda e: e["messages"][1].update(mood="happy"))),
    ("unrecognized_role", _broken(lambda e: e["messages"][1].update(role="customer"))),
    ("missing_content", _broken(lambda e: e["messages"][2].update(content=""))),
    ("example_missing_assistant_message", _broken(lambda e: e["messages"].pop(2))),
    ("unknown_top_level_key", _broken(lambda e: e.update(notes="x"))),
    (
        "tool_call_shape",
        _broken(
            lambda e: e["messages"][2].update(
                content=None, tool_calls=[{"type": "function", "function": {"name": "handoff_to_human"}}]
            )
        ),
    ),
    (
        "tool_call_shape",
        _broken(
            lambda e: e["messages"][2].update(
                content=None,
                tool_calls=[
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "handoff_to_human", "arguments": '{"reason": "bored", "summary": "x"}'},
                    }
                ],
            )
        ),
    ),
    ("weight", _broken(lambda e: e["messages"][2].update(weight=0.5))),
    ("weight", _broken(lambda e: e["messages"][1].update(weight=1))),
    ("system_prompt_differs", _broken(lambda e: e["messages"][0].update(content="You are a pirate."))),
    ("action_claim", _broken(lambda e: e["messages"][2].update(content="I've reset your ZenHub, try again now."))),
]


@pytest.mark.parametrize(("category", "bad"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_each_error_category_is_reported_with_file_and_line(tmp_path: Path, category: str, bad: Any) -> None:
    path = write_lines(tmp_path / "train.jsonl", [*dataset(2)[:11], bad, example(200)])
    report = validate_files([path])
    errors = [(p.category, p.where) for p in report.errors]
    assert (category, f"{path}:12") in errors
    assert all(where == f"{path}:12" for _, where in errors), errors  # the good lines stay clean


def test_a_broken_line_is_reported_and_the_check_goes_on(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        [example(1), '{"messages": [', example(2), _broken(lambda e: e["messages"][1].update(role="robot"))],
    )
    report = validate_files([path])
    assert [(p.category, p.where) for p in report.errors] == [
        ("invalid_json", f"{path}:2"),
        ("unrecognized_role", f"{path}:4"),
    ]
    assert report.files[0].examples == 3


def test_duplicates_near_duplicates_and_leakage(tmp_path: Path) -> None:
    near = copy.deepcopy(example(3))
    near["messages"][2]["content"] += " Thanks!"
    train = write_lines(tmp_path / "train.jsonl", [example(1), example(2), example(1), example(3), near])
    valid = write_lines(tmp_path / "valid.jsonl", [example(2), example(7)])
    report = validate_files([train, valid])
    kinds = {"duplicate", "near_duplicate", "leakage"}
    found = {(p.severity, p.category, p.where) for p in report.problems if p.category in kinds}
    assert found == {
        ("error", "duplicate", f"{train}:3"),
        ("warning", "near_duplicate", f"{train}:5"),
        ("error", "leakage", f"{valid}:1"),
    }


def test_a_held_out_question_in_the_training_data_is_leakage(tmp_path: Path) -> None:
    greeting = _broken(lambda e: e["messages"][1].update(content="Hello there"))
    train = write_lines(tmp_path / "train.jsonl", [greeting, example(2)])
    question = example(2)["messages"][1]["content"]
    held_out = write_lines(
        tmp_path / "eval.jsonl",
        [
            {"id": "a", "category": "product_knowledge", "messages": [{"role": "user", "content": "Hi"}], "expect": {}},
            {
                "id": "b",
                "category": "product_knowledge",
                "messages": [{"role": "user", "content": question}],
                "expect": {},
            },
        ],
    )
    report = validate_files([train], eval_path=held_out)
    assert [(p.category, p.where) for p in report.errors] == [("eval_leakage", f"{train}:2")]
    assert f"{held_out}:2" in report.errors[0].message


def test_a_short_held_out_turn_trained_on_verbatim_is_leakage_too(tmp_path: Path) -> None:
    same = _broken(lambda e: e["messages"][1].update(content="  THAT   didn't work!! "))
    other = _broken(lambda e: e["messages"][1].update(content="That did work"))
    train = write_lines(tmp_path / "train.jsonl", [example(1), same, other])
    held_out = write_lines(
        tmp_path / "eval.jsonl",
        [
            {
                "id": "a",
                "category": "troubleshooting",
                "messages": [{"role": "user", "content": "That didnt work."}],
                "expect": {},
            },
        ],
    )
    report = validate_files([train], eval_path=held_out)
    # casefolded, punctuation stripped, spaces collapsed: the same four words; "did work" is another message
    assert [(p.category, p.where) for p in report.errors] == [("eval_leakage", f"{train}:2")]
    assert f"{held_out}:1" in report.errors[0].message


def test_a_tool_call_without_a_tools_list_is_an_error(tmp_path: Path) -> None:
    undeclared = example(3, handoff=True)
    del undeclared["tools"]
    path = write_lines(tmp_path / "t.jsonl", [example(1), undeclared])
    report = validate_files([path])
    assert [(p.category, p.where) for p in report.errors] == [("undeclared_tools", f"{path}:2")]
    assert "'handoff_to_human'" in report.errors[0].message and "no 'tools'" in report.errors[0].message


def test_a_conversation_ending_with_the_customer_is_an_error(tmp_path: Path) -> None:
    cut = _broken(lambda e: e["messages"].append({"role": "user", "content": "And the other one?"}))
    path = write_lines(tmp_path / "t.jsonl", [example(1), cut])
    report = validate_files([path])
    assert [(p.category, p.where) for p in report.errors] == [("ends_with_user_turn", f"{path}:2")]
    assert "message 4" in report.errors[0].message


def test_strict_makes_an_over_long_example_an_error(tmp_path: Path, capsys: Any) -> None:
    path = write_lines(tmp_path / "t.jsonl", dataset(2))
    lenient = validate_files([path], max_tokens=300)
    assert lenient.ok and {p.category for p in lenient.warnings} == {"over_token_limit"}
    strict = validate_files([path], max_tokens=300, strict=True)
    assert not strict.ok and {p.category for p in strict.errors} == {"over_token_limit"}
    assert main(["validate", str(path), "--max-tokens", "300", "--json-report", str(tmp_path / "r.json")]) == 0
    assert (
        main(["validate", str(path), "--max-tokens", "300", "--strict", "--json-report", str(tmp_path / "r.json")]) == 1
    )
    assert json.loads((tmp_path / "r.json").read_text())["errors_by_category"] == {"over_token_limit": 14}


def test_token_counts_epochs_and_billing(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "t.jsonl", dataset(2))  # 14 examples, hand-offs included
    report = validate_files([path], max_tokens=300)
    stats = report.files[0].tokens
    assert stats is not None and stats["count"] == 14
    assert stats["min"] <= stats["p10"] <= stats["median"] <= stats["p90"] <= stats["max"]
    assert stats["min"] > len(SYSTEM_PROMPT) // 8  # the system prompt is counted
    assert report.files[0].assistant_tokens["min"] > 0  # a hand-off's tool call is counted
    assert report.files[0].default_epochs == 7  # 100 // 14
    assert report.files[0].over_limit == 14
    assert report.files[0].billed_tokens == 7 * 14 * 300
    assert {p.category for p in report.warnings} >= {"over_token_limit"}


@pytest.mark.parametrize(("examples", "epochs"), [(5, 20), (1, 25), (40, 3), (100, 3), (9_000, 2), (30_000, 1)])
def test_default_epochs_follow_openais_rule(examples: int, epochs: int) -> None:
    assert default_epochs(examples) == epochs


def test_billing_caps_each_example_at_the_limit() -> None:
    assert billed_tokens([10, 500], epochs=3, max_tokens=100) == 3 * 110


def test_ft_model_ids_use_the_base_models_encoding(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "t.jsonl", [example(1)])
    assert validate_files([path], model="ft:gpt-4.1-mini-2025-04-14:zennest::abc").base_model == (
        "gpt-4.1-mini-2025-04-14"
    )


def test_cli_exits_non_zero_on_errors_and_writes_the_json_report(tmp_path: Path, capsys: Any) -> None:
    path = write_lines(tmp_path / "t.jsonl", [*dataset(2), "{oops"])
    out = tmp_path / "report.json"
    assert main(["validate", str(path), "--json-report", str(out)]) == 1
    report = json.loads(out.read_text())
    assert report["ok"] is False and report["errors_by_category"] == {"invalid_json": 1}
    assert f"{path}:15" in capsys.readouterr().out


def test_cli_passes_clean_data(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "t.jsonl", dataset(2))
    assert main(["validate", str(path)]) == 0


def _shipped_files() -> list[Path]:
    return sorted((DATA / "conversations").glob("*.jsonl"))


@pytest.mark.parametrize(
    "files", [["training/data/conversations"], ["training/data/train.jsonl", "training/data/valid.jsonl"]]
)
def test_the_shipped_data_passes_validate_strict_as_ci_runs_it(
    files: list[str], tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DATA.parents[1])  # the repository root, as CI runs it
    code = main(["validate", "--strict", *files, "--json-report", str(tmp_path / "validate.json")])
    report = json.loads((tmp_path / "validate.json").read_text())
    assert [f"{p['where']}: {p['category']}: {p['message']}" for p in report["problems"]] == []
    assert code == 0 and report["examples"] >= 300
    assert "No errors. 0 warning(s)." in capsys.readouterr().out


@pytest.mark.skipif(not _shipped_files(), reason="the conversation files are not written yet")
def test_the_shipped_data_passes_with_no_error() -> None:
    report = validate_files(_shipped_files())
    assert [f"{p.where}: {p.category}: {p.message}" for p in report.errors] == []


@pytest.mark.skipif(len(_shipped_files()) < 7, reason="not every objective's conversations are written yet")
def test_the_shipped_data_covers_every_objective_with_300_examples() -> None:
    report = validate_files(_shipped_files())
    objectives = {o for f in report.files for o in f.by_objective}
    assert objectives == set(OBJECTIVES)
    assert sum(f.examples for f in report.files) >= 300
