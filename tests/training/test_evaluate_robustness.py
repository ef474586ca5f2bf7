"""`sarah train evaluate` on real files: bad input is reported before any model call, progress is
shown, every answer is kept per item, and both sides survive in the JSON even under the same label."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from handlers.model import Conversation, Reply
from training.cli import main
from training.eval_items import EvalFileError, load_eval_items
from training.eval_progress import EvalProgress
from training.evaluate import compare
from training.evaluate_report import write_report

GOOD_ITEM = {
    "id": "pk-1",
    "category": "product_knowledge",
    "messages": [{"role": "user", "content": "Which fittings?"}],
    "expect": {"handoff": False, "refuse": False, "kb_ids": [], "keywords": ["E26"]},
}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _item(**changes: Any) -> str:
    item = {**GOOD_ITEM, **changes}
    return json.dumps({k: v for k, v in item.items() if v is not None})


def test_every_bad_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    eval_file = _write(
        tmp_path / "eval.jsonl",
        [
            _item(),
            '{"id": "pk-2", "messages": [',  # broken JSON
            _item(id=None),  # no id
            _item(id="pk-4", messages=None),  # no messages
            _item(id="pk-5", expect=None),  # no expect
            _item(id="pk-6", messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]),
            _item(id="pk-1"),  # the same id twice
            "[1, 2]",
        ],
    )
    with pytest.raises(EvalFileError) as raised:
        load_eval_items(eval_file)
    problems = raised.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [f"{eval_file}:{n}" for n in (2, 3, 4, 5, 6, 7, 8)]
    text = "\n".join(problems)
    assert "not valid JSON" in text and "no 'id'" in text and "no 'messages'" in text and "no 'expect'" in text
    assert "must end with the customer's message" in text and "'pk-1' is already used on line 1" in text


def test_a_broken_eval_file_stops_the_command_before_any_model_is_asked(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        asked.append("build")
        raise AssertionError("a model was built for a broken eval file")

    monkeypatch.setattr("training.model_specs.build_model", forbidden)
    eval_file = _write(tmp_path / "eval.jsonl", [_item(), _item(id=None)])
    report = tmp_path / "report.md"
    code = main(
        ["evaluate", "--a", "offline", "--b", "offline", "--eval-file", str(eval_file), "--report", str(report)]
    )
    assert code == 1 and asked == [] and not report.exists()
    assert f"{eval_file}:2: no 'id'" in capsys.readouterr().err


class Echo:
    def __init__(self, name: str) -> None:
        self.name = name

    async def reply(self, conversation: Conversation) -> Reply:
        return Reply(f"{self.name}: E26 fits.")


async def test_progress_is_one_line_per_n_items_when_not_a_terminal() -> None:
    stream = io.StringIO()
    items = [{**GOOD_ITEM, "id": f"pk-{n}"} for n in range(5)]
    progress = EvalProgress(total=2 * len(items), stream=stream, every=4)
    await compare(Echo("a"), Echo("b"), items, {}, labels=("a", "b"), progress=progress)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "evaluated 4/10 answers",
        "evaluated 8/10 answers",
        "evaluated 10/10 answers",
    ]


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = EvalProgress(total=3, stream=stream, every=100)
    for _ in range(3):
        progress.advance()
    progress.close()
    assert stream.getvalue() == "\revaluated 1/3 answers\revaluated 2/3 answers\revaluated 3/3 answers\n"


def test_the_same_model_on_both_sides_keeps_both_sides_and_every_answer(tmp_path: Path, capsys: Any) -> None:
    eval_file = _write(tmp_path / "eval.jsonl", [_item(id=f"pk-{n}") for n in range(3)])
    report = tmp_path / "out" / "report.md"
    scores = tmp_path / "scores.json"
    argv = ["evaluate", "--a", "offline", "--b", "offline", "--eval-file", str(eval_file), "--report", str(report)]
    assert main([*argv, "--json", str(scores)]) == 0
    assert "evaluated 6/6 answers" in capsys.readouterr().err

    document = json.loads(scores.read_text())
    assert set(document) == {"a", "b"}
    assert document["a"]["label"] == document["b"]["label"] == "offline"
    rates = document["a"]["rates"]
    assert set(rates) >= {"on_topic", "correct_refusal", "handoff_precision", "handoff_recall", "invented_actions"}
    assert isinstance(rates["task_success"], float) and rates["task_success"] == document["b"]["rates"]["task_success"]
    assert all(value is None or 0 <= value <= 1 for value in rates.values())
    assert json.loads(report.with_suffix(".json").read_text()) == document

    rows = [json.loads(line) for line in report.with_suffix(".items.jsonl").read_text().splitlines()]
    assert [(r["side"], r["id"]) for r in rows] == [(s, f"pk-{n}") for s in "ab" for n in range(3)]
    assert all(r["label"] == "offline" and r["outcome"] == "answered" and r["answer"] for r in rows)
    with report.with_suffix(".items.csv").open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["side"], r["id"], r["answer"]) for r in table] == [(r["side"], r["id"], r["answer"]) for r in rows]


async def test_extra_rates_are_computed_from_each_sides_per_item_results(tmp_path: Path) -> None:
    items = [{**GOOD_ITEM, "id": f"pk-{n}"} for n in range(4)]
    a, b = await compare(Echo("a"), Echo("b"), items, {}, labels=("same", "same"))

    def share_answered(results: list[Any]) -> dict[str, float | None]:
        return {"answered_share": sum(r.outcome == "answered" for r in results) / len(results)}

    write_report(tmp_path / "r.md", a, b, items, extra_rates=(share_answered,))
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["a"]["rates"]["answered_share"] == document["b"]["rates"]["answered_share"] == 1.0
