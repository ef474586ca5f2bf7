"""`sarah train harvest` and `sarah train gaps`: Sarah learns from the hand-offs her team resolved.

The hand-off is made by Sarah herself in the fakes (the customer asks for a person, an agent answers
in the card's thread, then resolves it); the harvest reads the real Redis she wrote.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis

from handlers.store.forget import Forgetter, person_digest
from handlers.store.keys import FORGOTTEN_PEOPLE
from handlers.store.values import StoredTurn
from sarah_testing.handoff_steps import AGENT, CUSTOMER_DM, cards, press, relay_ready, said
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import channel_message, dm, new_ts
from tests.conftest import REDIS_TEST_URL, SUPPORT_CHANNEL, StartSarah
from training.cli import main
from training.handoff_records import read_threads
from training.redaction import redact
from training.validate import validate_files

ASKED = (
    "I want to talk to a real person. My name is Cris Doe, cris.doe@example.com, order ZN-48213, "
    "call me on +1 415 555 0100. My ZenLock jams."
)
ANSWERED = "Hello Cris, a jammed ZenLock is covered by the 2-year warranty: we will ship a replacement to you."


async def _resolved_hand_off(start_sarah: StartSarah, fake_slack: FakeSlack) -> str:
    fake_slack.channel_members[SUPPORT_CHANNEL] = [AGENT]
    fake_slack.users[AGENT] = {"id": AGENT, "name": "ana", "real_name": "Ana Support"}
    _, slack = await start_sarah()
    root = new_ts()
    await slack.event(dm(ASKED, ts=root))
    card = (await fake_slack.wait_for(lambda: cards(fake_slack)))[0]
    await relay_ready(card)
    await slack.event(channel_message(ANSWERED, thread_ts=card.ts, channel=SUPPORT_CHANNEL, user=AGENT))
    await said(fake_slack, CUSTOMER_DM, root, "covered by the 2-year warranty")
    await slack.event(dm("Great, thanks!", thread_ts=root))
    await said(fake_slack, SUPPORT_CHANNEL, card.ts, "Great, thanks!")
    await press(slack, fake_slack, "sarah_resolve", card)
    await said(fake_slack, CUSTOMER_DM, root, "marked this conversation as resolved")
    return root


async def _harvest(out: Path, *extra: str) -> int:
    return await asyncio.to_thread(main, ["harvest", "--redis-url", REDIS_TEST_URL, "--out", str(out), *extra])


async def test_a_resolved_hand_off_becomes_a_redacted_candidate_that_validate_checks(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, tmp_path: Path, capsys: Any
) -> None:
    root = await _resolved_hand_off(start_sarah, fake_slack)
    out = tmp_path / "candidates.jsonl"

    assert await _harvest(out) == 0
    assert "1 resolved hand-off(s) read; 1 candidate(s)." in capsys.readouterr().out
    (candidate,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert candidate["approved"] is False and candidate["source"] == f"{CUSTOMER_DM}:{root}#1"
    messages = candidate["messages"]
    assert messages[0]["role"] == "system"
    customer = messages[1]
    assert customer["role"] == "user" and "My ZenLock jams." in customer["content"]
    for private in ("Cris", "Doe", "cris.doe@example.com", "ZN-48213", "415 555 0100"):
        assert private not in json.dumps(candidate), private
    assert "[email]" in customer["content"] and "[order number]" in customer["content"]
    assert "[phone]" in customer["content"] and "My name is [name]" in customer["content"]
    team = messages[-1]
    assert team == {
        "role": "assistant",
        "content": "Hello [name], a jammed ZenLock is covered by the 2-year warranty: we will ship a replacement "
        "to you.",
        "weight": 1,
    }
    assert all(m.get("weight") == 0 for m in messages[2:-1] if m["role"] == "assistant")  # Sarah's own turns

    report = validate_files([out])
    assert [p.category for p in report.errors] == ["not_approved"]
    candidate["approved"] = True
    out.write_text(json.dumps(candidate) + "\n")
    assert validate_files([out]).ok


async def test_nothing_is_harvested_from_a_person_who_used_forget(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, tmp_path: Path, capsys: Any
) -> None:
    await _resolved_hand_off(start_sarah, fake_slack)
    await Forgetter(redis).forget("UCUSTOMER")

    out = tmp_path / "after-forget.jsonl"
    assert await _harvest(out) == 0
    assert "0 resolved hand-off(s) read; 0 candidate(s)." in capsys.readouterr().out
    assert not out.exists()


async def test_a_conversation_with_a_line_from_a_forgotten_person_is_left_out() -> None:
    redis = FakeAsyncRedis()
    thread = "C0SHOP:1700000000.000100"
    turns = [
        StoredTurn("user", "My ZenCam is offline", "1", "UCUSTOMER"),
        StoredTurn("user", "Mine too, same thing", "2", "UOTHER"),
        StoredTurn("agent", "Restart the ZenHub, then the camera.", "3", AGENT),
    ]
    await redis.hset(f"sarah:{{{thread}}}:state", mapping={"owner": "resolved", "customer": "UCUSTOMER"})
    await redis.rpush(f"sarah:{{{thread}}}:turns", *(t.to_json() for t in turns))
    assert len((await read_threads(redis)).threads) == 1

    await redis.sadd(FORGOTTEN_PEOPLE, person_digest("UOTHER"))
    reading = await read_threads(redis)
    assert reading.threads == [] and reading.skipped_forgotten == 1


def test_redaction_keeps_the_support_content() -> None:
    text = "Thanks Cris! The ZenHub 2 costs $129, holds 20 codes since firmware 4.2.1; hold 10 seconds."
    assert redact(text) == text.replace("Cris", "[name]")
    assert redact("Ask Ana Support or <@U0AGENT>", ["Ana Support"]) == "Ask [name] or [person]"


async def test_the_gap_report_counts_hand_offs_by_knowledge_base_section(
    start_sarah: StartSarah, fake_slack: FakeSlack, redis: Redis, tmp_path: Path, capsys: Any
) -> None:
    await _resolved_hand_off(start_sarah, fake_slack)
    report = tmp_path / "gaps.json"
    code = await asyncio.to_thread(main, ["gaps", "--redis-url", REDIS_TEST_URL, "--json", str(report)])
    assert code == 0
    (row,) = json.loads(report.read_text())
    assert row["handoffs"] == 1 and row["not_helped"] == 0 and row["handoff_reasons"] == {"customer_asked": 1}
    assert row["section"] == "locks/jammed-or-not-locking"  # the customer's jammed ZenLock
    assert row["title"] in capsys.readouterr().out


async def test_answers_that_did_not_help_are_counted_and_questions_outside_the_knowledge_base_stand_out() -> None:
    from sarah_model.knowledge import load_knowledge_base
    from sarah_model.sections import NOT_IN_KB, SectionFinder
    from training.gaps import knowledge_gaps

    redis = FakeAsyncRedis()
    for n, (question, failed) in enumerate(
        [
            ("How do I change the Wi-Fi network of my ZenHub?", True),
            ("How do I change the Wi-Fi network of my ZenHub?", True),
            ("Is there a student discount?", True),
            ("How do I change the Wi-Fi network of my ZenHub?", False),
        ]
    ):
        thread = f"D0C{n}:1700000000.00010{n}"
        turns = [StoredTurn("user", question, "1", "UCUSTOMER"), StoredTurn("assistant", "Try this.", "2")]
        await redis.hset(f"sarah:{{{thread}}}:state", mapping={"owner": "bot", "customer": "UCUSTOMER"})
        await redis.rpush(f"sarah:{{{thread}}}:turns", *(t.to_json() for t in turns))
        if failed:
            await redis.sadd(f"sarah:{{{thread}}}:failed", "answer:2")

    gaps = knowledge_gaps((await read_threads(redis)).threads, SectionFinder(load_knowledge_base()))
    assert [(g.section, g.handoffs, g.not_helped) for g in gaps] == [
        ("hub/change-network", 0, 2),
        (NOT_IN_KB, 0, 1),
    ]
