"""What an operator meets at the command line: a container with nothing to serve stops and says why,
`sarah train` names a missing extra, the doctor's last line counts what it found, the image's probe,
and traces that follow OpenTelemetry's GenAI conventions without message content."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.cli.doctor import run_doctor, summary_line
from bot.ops.observed_model import ObservedModel
from bot.ops.observers import PassWatch
from bot.ops.tracing import Tracing, build_tracing
from bot.runtime import Sarah
from config import load_settings
from handlers.model import Conversation, Outcome, Reply, Turn
from sarah_testing.openai_chat import FakeOpenAI, ToolCall
from sarah_testing.slack_api import FakeSlack
from sarah_testing.slack_payloads import dm, new_ts
from tests.conftest import REDIS_TEST_URL

ROOT = Path(__file__).parents[2]


def sarah_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=60,
    )


def test_no_slack_tokens_and_no_terminal_stops_with_a_message_instead_of_a_restart_loop(tmp_path: Path) -> None:
    result = sarah_cli(cwd=tmp_path)  # stdin is /dev/null, as in a container without -it
    assert result.returncode == 0
    assert "No SLACK_BOT_TOKEN and no terminal" in result.stderr and "sarah chat" in result.stderr
    assert not (tmp_path / ".sarah").exists()  # it stopped before starting anything


def test_sarah_chat_reads_piped_input_even_when_slack_is_configured(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-set",
        "SLACK_APP_TOKEN": "xapp-set",
        "SUPPORT_CHANNEL": "C0SUPPORT",
        "REDIS_URL": REDIS_TEST_URL,
        "LOG_LEVEL": "WARNING",
        "COALESCE_SECONDS": "0",
    }
    result = sarah_cli("chat", stdin="/quit\n", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Hi, I'm Sarah from ZenNest support" in result.stdout


def test_sarah_train_without_its_extra_names_the_extra_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['rich'] = None\n"  # as if the train extra were not installed
        "from sarah_cli import main; sys.exit(main(['train', 'validate']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "requirements/train.txt" in result.stderr and "Traceback" not in result.stderr


async def test_doctor_ends_with_an_honest_count_of_warnings_and_problems() -> None:
    out = io.StringIO()
    assert await run_doctor(load_settings(None), out=out) == 0  # no Slack, no REDIS_URL: two warnings
    lines = out.getvalue().splitlines()
    assert lines.count("Redis: warning") == lines.count("Slack: warning") == 1
    assert lines[-1] == "2 warnings, no problems: Sarah can run; read the warnings above."
    assert "All good" not in out.getvalue()
    assert summary_line(0, 0) == "All good: no warnings, no problems."
    assert summary_line(1, 2) == "1 warning, 2 problems: fix the problems above."


async def test_the_image_probe_exits_0_on_a_healthy_process_and_1_otherwise(tmp_path: Path) -> None:
    status = {"code": 200}

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({}, status=status["code"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]

    async def probe() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.probe",
            "/healthz",
            env={"PYTHONPATH": str(ROOT), "SARAH_PORT": "1", "SARAH_HEALTH_PORT": str(port)},
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await asyncio.wait_for(process.wait(), 30)

    try:
        assert await probe() == 0
        status["code"] = 503
        assert await probe() == 1
    finally:
        await runner.cleanup()


def test_tracing_is_off_and_imports_nothing_when_no_endpoint_is_set() -> None:
    code = (
        "import sys; from bot.ops.tracing import build_tracing; t = build_tracing(None)\n"
        "import bot.runtime\n"
        # redis-py imports OpenTelemetry's API for its own metrics when it is installed; the SDK's
        # tracing and the exporter are ours, and stay out
        "assert not t.on and not [m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', "
        "'opentelemetry.exporter'))], 'imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def spans() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Tracing(provider.get_tracer("test"), provider), exporter
    provider.shutdown()


async def test_a_pass_and_its_model_call_are_spans_with_genai_attributes_and_no_content(
    redis: Any, fake_slack: FakeSlack, fake_openai: FakeOpenAI, spans: Any
) -> None:
    tracing, exporter = spans
    from tests.conftest import sarah_settings

    sarah = Sarah(sarah_settings(fake_slack, fake_openai), REDIS_TEST_URL, tracing=tracing)
    await sarah.start()
    from sarah_testing.slack_payloads import SlackSender

    slack = SlackSender(f"http://127.0.0.1:{sarah.http_port}/slack/events")
    try:
        assert isinstance(sarah.parts.pipeline._hooks, PassWatch)
        root = new_ts()
        await slack.event(dm("my ZenLock PIN is 9931, how do I change it?", ts=root))
        await fake_slack.wait_for(lambda: [m for m in fake_slack.thread("D0CUSTOMER", root) if "Answering" in m.body])
        fake_openai.responder = lambda _: ToolCall("needs_staff_access", "Wants the PIN reset by staff")
        await slack.event(dm("please reset it for me", ts=new_ts(), thread_ts=root))
        await fake_slack.wait_for(lambda: len(fake_openai.requests) >= 2)
        await asyncio.sleep(0.5)  # the pass ends after its reply
    finally:
        await slack.close()
        await sarah.stop()

    finished = exporter.get_finished_spans()
    passes = [s for s in finished if s.name == "sarah.pass"]
    chats = [s for s in finished if s.name.startswith("chat ")]
    assert len(passes) >= 2 and len(chats) >= 2
    key = f"D0CUSTOMER:{root}"
    first = chats[0]
    assert first.name == "chat ft:gpt-4.1-mini-2025-04-14:zennest::sarah1"
    assert first.attributes["gen_ai.operation.name"] == "chat"
    assert first.attributes["gen_ai.provider.name"] == "openai_compatible"
    assert first.attributes["gen_ai.request.model"] == "ft:gpt-4.1-mini-2025-04-14:zennest::sarah1"
    assert first.attributes["gen_ai.conversation.id"] == key
    assert (first.attributes["gen_ai.usage.input_tokens"], first.attributes["gen_ai.usage.output_tokens"]) == (10, 5)
    assert first.parent is not None and first.parent.span_id in {p.context.span_id for p in passes}
    assert any(tuple(s.attributes["gen_ai.response.finish_reasons"]) == ("tool_calls",) for s in chats)
    assert all(p.attributes["gen_ai.conversation.id"] == key for p in passes)
    everything = " ".join(str(dict(s.attributes or {})) + s.name for s in finished)
    assert "9931" not in everything and "reset it" not in everything  # message content is never captured


async def test_an_unavailable_model_call_is_an_error_span(spans: Any) -> None:
    tracing, exporter = spans

    class Down:
        name = "m"

        async def reply(self, conversation: Conversation) -> Reply:
            return Reply("", Outcome.UNAVAILABLE, reason="timeout")

    from bot.ops.metrics import Metrics, sample

    metrics = Metrics()
    model = ObservedModel(Down(), metrics, tracing, provider="openai")
    reply = await model.reply(Conversation("system", (Turn("user", "hello"),)))
    assert reply.outcome is Outcome.UNAVAILABLE
    (span,) = exporter.get_finished_spans()
    assert span.attributes["error.type"] == "unavailable"
    assert sample(metrics, "sarah_model_errors_total") == 1


def test_build_tracing_exports_to_the_endpoint_when_it_is_set() -> None:
    tracing = build_tracing("http://127.0.0.1:9")
    try:
        assert tracing.on
    finally:
        tracing.shutdown()
