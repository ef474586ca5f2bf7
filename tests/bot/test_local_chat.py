"""`sarah` with no Slack tokens is a chat in the terminal through the same pipeline as Slack."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from sarah_testing.openai_chat import FakeOpenAI, ToolCall, echo_responder, user_lines
from tests.conftest import REDIS_TEST_URL

ROOT = Path(__file__).parents[2]


async def chat(lines: list[str], env: dict[str, str], cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "chat",  # piped input: `sarah` alone would refuse, as in a container with no terminal
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **env},
    )
    out, err = await asyncio.wait_for(process.communicate("\n".join(lines).encode() + b"\n"), 90)
    assert process.returncode == 0, err.decode()
    return out.decode()


def model_env(fake_openai: FakeOpenAI) -> dict[str, str]:
    return {
        "REDIS_URL": REDIS_TEST_URL,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "MODEL_MAX_RETRIES": "0",
        "COALESCE_SECONDS": "0",
    }


async def test_a_terminal_conversation_is_answered_remembered_and_handed_off(
    fake_openai: FakeOpenAI, redis: object, tmp_path: Path
) -> None:
    fake_openai.responder = lambda request: (
        ToolCall("needs_staff_access", "Wants a refund")
        if "refund" in user_lines(request)[-1]
        else echo_responder(request)
    )
    out = await chat(
        ["How do I pair a ZenLock?", "and a second one?", "/human", "/quit"], model_env(fake_openai), tmp_path
    )
    assert "Hi, I'm Sarah from ZenNest support" in out
    assert "Sarah: Answering: How do I pair a ZenLock?" in out
    assert "Sarah: Answering: How do I pair a ZenLock? | and a second one?" in out  # remembered
    assert "handing this conversation to our support team" in out
    assert "[hand-off] In Slack, Sarah would now hand this conversation to the ZenNest support team" in out
    assert "reason: customer_asked" in out

    again = await chat(["/reset", "hello again", "/quit"], model_env(fake_openai), tmp_path)
    assert "Welcome back: continuing your conversation" in again
    assert "Sarah: Answering: hello again" in again  # a fresh episode after /reset


async def test_with_nothing_configured_sarah_chats_offline_on_an_embedded_redis_that_remembers(tmp_path: Path) -> None:
    env = {"SARAH_DATA_DIR": str(tmp_path / "data"), "COALESCE_SECONDS": "0"}
    out = await chat(["How much does Zen Plus cost per month?", "/quit"], env, tmp_path)
    assert "Sarah: " in out and "4.99" in out  # the offline model answers from the knowledge base
    again = await chat(["/quit"], env, tmp_path)
    assert "Welcome back: continuing your conversation (2 earlier messages)" in again


async def test_reset_ends_the_hand_off_so_asking_for_a_person_again_opens_a_new_one(tmp_path: Path) -> None:
    env = {"SARAH_DATA_DIR": str(tmp_path / "data"), "COALESCE_SECONDS": "0"}
    out = await chat(["/human", "/reset", "/human", "/quit"], env, tmp_path)
    assert out.count("[hand-off] In Slack, Sarah would now hand this conversation") == 2
    assert "already with our support team" not in out


async def test_the_terminal_chat_shows_only_the_conversation_and_says_where_the_log_went(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "chat",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "SARAH_DATA_DIR": "data"},  # LOG_LEVEL INFO
    )
    out, err = await asyncio.wait_for(process.communicate(b"How much does Zen Plus cost per month?\n/quit\n"), 90)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0] == f"(Sarah's log for this chat: {Path('data') / 'chat.log'})"
    assert lines[1].startswith("Hi, I'm Sarah from ZenNest support")
    assert any(line.startswith("Sarah: ") for line in lines[2:])
    assert not [line for line in lines if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", line)]  # no log line
    assert err.decode() == ""
    log = (tmp_path / "data" / "chat.log").read_text()
    assert " INFO bot.worker: worker " in log and "Zen Plus" not in log  # the log has no customer text
