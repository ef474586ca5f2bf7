"""`sarah train evaluate`: known answers on a tiny set give known scores, side by side in a report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from config.training import load_training_settings
from handlers.model import Conversation, Outcome, Reply
from sarah_testing.openai_chat import FakeOpenAI
from training.evaluate import compare, run_evaluate
from training.evaluate_report import render_html, write_report
from training.model_specs import SpecError, build_model, parse_spec

PASSAGES = {
    "lights/overview": "ZenGlow bulbs come in E26 and E27 fittings.",
    "hub/reset": "Hold the ZenHub button for 10 seconds until the light blinks white.",
}
ITEMS: list[dict[str, Any]] = [
    {
        "id": "pk-1",
        "category": "product_knowledge",
        "messages": [{"role": "user", "content": "Which fittings?"}],
        "expect": {"handoff": False, "refuse": False, "kb_ids": ["lights/overview"], "keywords": ["E26", "E27"]},
    },
    {
        "id": "ot-1",
        "category": "off_topic",
        "messages": [{"role": "user", "content": "Write a poem | about the sea"}],
        "expect": {"handoff": False, "refuse": True, "kb_ids": [], "keywords": []},
    },
    {
        "id": "hr-1",
        "category": "human_request",
        "messages": [{"role": "user", "content": "A person, please."}],
        "expect": {"handoff": True, "refuse": False, "kb_ids": [], "keywords": []},
    },
    {
        "id": "ts-1",
        "category": "troubleshooting",
        "messages": [
            {"role": "user", "content": "Hub stuck."},
            {"role": "assistant", "content": "Is it on?"},
            {"role": "user", "content": "Yes, still stuck."},
        ],
        "expect": {"handoff": False, "refuse": False, "kb_ids": ["hub/reset"], "keywords": ["button"]},
    },
]

GOOD = {
    "Which fittings?": Reply("ZenGlow bulbs come in E26 and E27 fittings."),
    "Write a poem | about the sea": Reply("I can only help with ZenNest questions, so no poems from me."),
    "A person, please.": Reply("", Outcome.HANDOFF, "customer_asked", "Wants a person."),
    "Yes, still stuck.": Reply("Hold the ZenHub button for 10 seconds until the light blinks white."),
}
BAD = {
    "Which fittings?": Reply("ZenGlow comes in E26 only."),
    "Write a poem | about the sea": Reply("Waves roll <in> under a silver moon."),
    "A person, please.": Reply("No need: I've reset your ZenNest account, all good now."),
    "Yes, still stuck.": Reply("", Outcome.HANDOFF, "steps_failed", "Hub stuck."),
}


class Scripted:
    """A stub model answering from a table keyed by the customer's last message."""

    def __init__(self, name: str, answers: dict[str, Reply]) -> None:
        self.name = name
        self._answers = answers
        self.seen: list[Conversation] = []

    async def reply(self, conversation: Conversation) -> Reply:
        self.seen.append(conversation)
        return self._answers[conversation.turns[-1].content]


async def test_scores_of_a_good_and_a_bad_model() -> None:
    good, bad = Scripted("good", GOOD), Scripted("bad", BAD)
    a, b = await compare(good, bad, ITEMS, PASSAGES, labels=("good", "bad"))
    assert {label: str(rate) for label, rate, _ in a.scores.rows()} == {
        "On-topic rate": "100% (2/2)",  # pk-1 and ts-1 want an answer; the poem and the person do not
        "Correct refusal of off-topic requests": "100% (1/1)",
        "Hand-off precision": "100% (1/1)",
        "Hand-off recall": "100% (1/1)",
        "Invented actions": "0% (0/4)",
        "Agreement with the knowledge base": "100% (2/2)",
        "Unavailable (failed calls)": "0% (0/4)",
    }
    scores = b.scores
    assert str(scores.on_topic) == "50% (1/2)"  # ts-1 was handed off instead of answered
    assert str(scores.correct_refusal) == "0% (0/1)"
    assert str(scores.handoff_precision) == "0% (0/1)" and str(scores.handoff_recall) == "0% (0/1)"
    assert (scores.handoff.tp, scores.handoff.fp, scores.handoff.fn, scores.handoff.tn) == (0, 1, 1, 2)
    assert (a.scores.handoff.tp, a.scores.handoff.fp, a.scores.handoff.fn, a.scores.handoff.tn) == (1, 0, 0, 3)
    assert str(scores.invented_actions) == "25% (1/4)"  # the same four items as A's
    # pk-1: keywords 1/2 and 2 of 3 words grounded → 0.58; ts-1 handed off instead of answering → 0
    assert scores.kb_agreement.value == pytest.approx((0.5 + 2 / 3) / 2 / 2, abs=0.01)
    assert good.seen[3].system.startswith("You are Sarah") and [t.role for t in good.seen[3].turns] == [
        "user",
        "assistant",
        "user",
    ]


async def test_a_model_that_raises_is_counted_unavailable() -> None:
    class Broken:
        name = "broken"

        async def reply(self, conversation: Conversation) -> Reply:
            raise RuntimeError("boom")

    _, b = await compare(Scripted("good", GOOD), Broken(), ITEMS, PASSAGES, labels=("good", "broken"))
    assert str(b.scores.unavailable) == "100% (4/4)"


async def test_markdown_report_puts_the_answers_side_by_side(tmp_path: Path) -> None:
    a, b = await compare(Scripted("good", GOOD), Scripted("bad", BAD), ITEMS, PASSAGES, labels=("good", "bad"))
    report = write_report(tmp_path / "eval.md", a, b, ITEMS).read_text()
    assert "| On-topic rate | 100% (2/2) | 50% (1/2) |" in report
    assert "| Invented actions | 0% (0/4) | 25% (1/4) |" in report
    assert "### Hand-offs (4 items)" in report
    assert "| FP: hand-off made, not expected | 0 of 4 | 1 of 4 |" in report
    assert "Both models are scored on the same 4 items." in report
    row = next(line for line in report.splitlines() if line.startswith("| hr-1"))
    assert "→ hand-off (customer_asked): Wants a person." in row
    assert "I've reset your ZenNest account" in row and "invented action" in row and "missed hand-off" in row
    assert "Write a poem \\| about the sea" in report  # a pipe in the text does not break the table
    assert "Waves roll &lt;in&gt; under" in report  # nor does markup
    assert "(after 2 earlier turns) Yes, still stuck." in report
    assert (tmp_path / "eval.json").exists()


async def test_html_report_escapes_the_answers() -> None:
    a, b = await compare(Scripted("good", GOOD), Scripted("bad", BAD), ITEMS, PASSAGES, labels=("good", "bad"))
    page = render_html(a, b, ITEMS, "t")
    assert "Waves roll &lt;in&gt; under" in page and "<in>" not in page


def test_spec_parsing() -> None:
    assert parse_spec("offline").kind == "offline"
    assert parse_spec("openai:ft:gpt-4.1-mini-2025-04-14:zennest::x").model == "ft:gpt-4.1-mini-2025-04-14:zennest::x"
    url = parse_spec("url:http://127.0.0.1:8000/v1#sarah")
    assert (url.kind, url.base_url, url.model) == ("url", "http://127.0.0.1:8000/v1", "sarah")
    assert parse_spec("local:runs/local/v3").path == "runs/local/v3"
    for bad in ("gpt-4o", "url:http://x/v1", "url:ftp://x#m", "openai:", "offline:x"):
        with pytest.raises(SpecError, match="offline \\| openai:<model>"):
            parse_spec(bad)


async def test_an_openai_compatible_server_can_be_either_side(fake_openai: FakeOpenAI) -> None:
    closers: list[Any] = []
    model = build_model(parse_spec(f"url:{fake_openai.base_url}#sarah"), load_training_settings(None), closers)
    try:
        a, _ = await compare(model, Scripted("good", GOOD), ITEMS, PASSAGES, labels=("server", "good"))
    finally:
        for close in closers:
            await close()
    assert a.replies[0].text == "Answering: Which fittings?"
    assert fake_openai.requests[0]["model"] == "sarah"


def test_cli_refuses_an_unknown_spec(capsys: Any) -> None:
    args = argparse.Namespace(a="gpt-4o", b="offline", judge=None, report=Path("r.md"), eval_file=Path("x"), limit=None)
    assert run_evaluate(args) == 2
    assert "cannot read the model spec 'gpt-4o'" in capsys.readouterr().err


async def test_an_llm_judge_grade_is_scaled_into_the_scores() -> None:
    class Judge:
        name = "judge"

        async def reply(self, conversation: Conversation) -> Reply:
            grade = 5 if "E26 and E27" in conversation.turns[0].content else 1
            return Reply(f'{{"score": {grade}, "reason": "ok"}}')

    a, _ = await compare(
        Scripted("good", GOOD), Scripted("bad", BAD), ITEMS, PASSAGES, labels=("good", "bad"), judge=Judge()
    )
    assert a.scores.judge is not None and a.scores.judge.value == pytest.approx(0.25)  # one 5, three 1s


def test_the_command_compares_two_servers_into_an_html_report(tmp_path: Path, capsys: Any) -> None:
    import asyncio
    import json as jsonlib
    import threading

    from training.cli import main

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeOpenAI()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
        eval_file = tmp_path / "eval.jsonl"
        eval_file.write_text("".join(jsonlib.dumps(item) + "\n" for item in ITEMS))
        report = tmp_path / "out" / "eval.html"
        code = main(
            [
                "evaluate",
                "--a",
                f"url:{server.base_url}#base",
                "--b",
                f"url:{server.base_url}#tuned",
                "--eval-file",
                str(eval_file),
                "--report",
                str(report),
                "--limit",
                "3",
            ]
        )
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
    assert code == 0
    assert sorted(r["model"] for r in server.requests) == ["base"] * 3 + ["tuned"] * 3
    page = report.read_text()
    assert page.startswith("<!doctype html>") and "Answering: Which fittings?" in page
    assert "On-topic rate" in capsys.readouterr().out
    assert jsonlib.loads((tmp_path / "out" / "eval.json").read_text())["a"]["label"] == "base @ " + server.base_url


def test_the_offline_model_can_be_either_side(tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip("sarah_model.offline", reason="the offline model is not written yet")
    from training.cli import main

    report = tmp_path / "offline.md"
    assert main(["evaluate", "--a", "offline", "--b", "offline", "--report", str(report), "--limit", "7"]) == 0
    text = report.read_text()
    assert "A: **offline** · B: **offline** · 7 held-out items" in text
    assert text.count("\n| pk-") == 7


def _shipped_eval() -> tuple[list[dict[str, Any]], dict[str, str]]:
    from sarah_model.knowledge import load_knowledge_base
    from training.evaluate import load_eval_items
    from training.paths import EVAL_FILE

    return load_eval_items(EVAL_FILE), {p.id: p.text for p in load_knowledge_base()}


class Always:
    """A stub that gives the same reply to everything."""

    def __init__(self, name: str, reply: Reply) -> None:
        self.name = name
        self._reply = reply

    async def reply(self, conversation: Conversation) -> Reply:
        return self._reply


ALWAYS_HANDS_OFF = Always("hands off", Reply("", Outcome.HANDOFF, "customer_asked", "Wants help."))
ALWAYS_CLAIMS = Always(
    "claims",
    Reply("Done! I've reset your ZenHub and updated your ZenNest account, so the ZenThermo and the app work now."),
)


async def test_a_stub_that_always_hands_off_or_always_claims_actions_is_not_on_topic() -> None:
    items, passages = _shipped_eval()
    a, b = await compare(ALWAYS_HANDS_OFF, ALWAYS_CLAIMS, items, passages, labels=("hands off", "claims"))
    wanting_answer = sum(not i["expect"].get("handoff") and not i["expect"].get("refuse") for i in items)
    assert str(a.scores.on_topic) == f"0% (0/{wanting_answer})"
    assert str(b.scores.on_topic) == f"0% (0/{wanting_answer})"
    expected = sum(bool(i["expect"].get("handoff")) for i in items)
    # the hand-off stub's recall is perfect, and the confusion table shows what that cost
    assert str(a.scores.handoff_recall) == f"100% ({expected}/{expected})"
    assert (a.scores.handoff.fp, a.scores.handoff.tn) == (len(items) - expected, 0)
    assert str(b.scores.invented_actions) == f"100% ({len(items)}/{len(items)})"
    assert str(a.scores.invented_actions) == f"0% (0/{len(items)})"  # scored on the same items as b


async def test_both_models_are_scored_on_the_same_items() -> None:
    class FailsOnPeople(Scripted):
        async def reply(self, conversation: Conversation) -> Reply:
            if conversation.turns[-1].content == "A person, please.":
                raise RuntimeError("boom")
            return await super().reply(conversation)

    a, b = await compare(Scripted("good", GOOD), FailsOnPeople("flaky", BAD), ITEMS, PASSAGES, labels=("good", "flaky"))
    # hr-1 failed on B: it leaves every figure of both sides, so A's hand-off counts drop with it
    assert str(b.scores.unavailable) == "25% (1/4)"
    assert str(a.scores.handoff_recall) == "n/a" and str(b.scores.handoff_recall) == "n/a"
    assert str(a.scores.invented_actions) == "0% (0/3)" and str(b.scores.invented_actions) == "0% (0/3)"
    assert a.scores.handoff.total == b.scores.handoff.total == 3
    for (label, rate_a, _), (_, rate_b, _) in zip(a.scores.rows(), b.scores.rows(), strict=True):
        if label != "Hand-off precision":  # over each model's own hand-offs, by definition
            assert rate_a.total == rate_b.total, label


async def test_the_html_report_shows_the_counts_and_the_confusion_table() -> None:
    a, b = await compare(Scripted("good", GOOD), Scripted("bad", BAD), ITEMS, PASSAGES, labels=("good", "bad"))
    page = render_html(a, b, ITEMS, "t")
    assert "<th>On-topic rate</th><td>100% (2/2)</td><td>50% (1/2)</td>" in page
    assert "<th>FN: hand-off expected, not made</th><td>0 of 4</td><td>1 of 4</td>" in page
    assert "How each figure is counted" in page
