"""What the fault suite sends and what it counts: customers who write like Slack delivers, fakes that
fail on cue, and a ledger of which message got which answer.

Every customer message carries a tag `[f00012]`. The model fake answers with the tags of the customer
lines after the last assistant turn, so an answer in the fake Slack names the messages it answers; a
reply without a tag (the apology when the model is down, a hand-off) answers every message of its
thread still waiting. A reply is one Slack message: editing it (a crash recovery that finishes the
answer in place) is not a second answer. Counted per message: answered (at least one reply), doubled
(more than one, or a reply when nothing was waiting), out of order (answered before an earlier message of its thread
that Sarah had acknowledged first: a message Slack had to retry may fairly be answered after a later
one that got through).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from sarah_testing.openai_chat import Delay, FakeOpenAI, HttpError
from sarah_testing.slack_api import FakeSlack, Posted
from sarah_testing.slack_payloads import dm, envelope, new_ts, signed_headers

TAG = re.compile(r"\[(f\d{5})\]")
THINKING = "_Sarah is typing…_"
SUPPORT_CHANNEL = "C0FAULTSUPPORT"


@dataclass
class Sent:
    tag: str
    thread: tuple[str, str]  # channel, root ts
    order: int  # position in its thread
    at: float
    acked: float | None = None  # when the ingress first answered 200 for it
    answers: list[float] = field(default_factory=list)


class Ledger:
    def __init__(self) -> None:
        self.messages: dict[str, Sent] = {}
        self.threads: dict[tuple[str, str], list[Sent]] = {}
        self.extra_replies = 0  # replies when nothing in the thread was waiting
        self.answer_order: dict[tuple[str, str], list[str]] = {}
        self.answered_by: dict[tuple[str, str], set[str]] = {}  # (channel, Slack message ts) → tags it answers
        self.last_answer = 0.0
        self.changed = asyncio.Event()
        self._counter = 0

    def new_tag(self) -> str:
        self._counter += 1
        return f"f{self._counter:05d}"

    def sent(self, tag: str, thread: tuple[str, str]) -> None:
        messages = self.threads.setdefault(thread, [])
        record = Sent(tag, thread, len(messages), time.monotonic())
        messages.append(record)
        self.messages[tag] = record

    def reply(self, thread: tuple[str, str], text: str, message_ts: str = "") -> None:
        """A final reply (not "typing…") posted or edited into `thread`; `message_ts`: the Slack
        message it is (an edit of a message that answered a tag already answers it no second time)."""
        if thread not in self.threads:
            return  # not a thread of ours (the support channel, another scenario's probe)
        now = time.monotonic()
        before = self.answered_by.setdefault((thread[0], message_ts), set()) if message_ts else set()
        tags = [tag for tag in dict.fromkeys(TAG.findall(text)) if tag in self.messages]
        if not tags:  # an apology or a hand-off: it answers whatever the thread was waiting for
            tags = [m.tag for m in self.threads[thread] if not m.answers and m.at <= now]
            if not tags and not before:
                self.extra_replies += 1
        tags = [tag for tag in tags if tag not in before]
        before.update(tags)
        for tag in tags:
            message = self.messages[tag]
            if not message.answers:
                self.answer_order.setdefault(thread, []).append(tag)
            message.answers.append(now)
        self.last_answer = now
        self.changed.set()

    def of(self, tags: set[str] | None = None) -> list[Sent]:
        return [m for m in self.messages.values() if tags is None or m.tag in tags]

    def all_answered(self, tags: set[str] | None = None) -> bool:
        return all(m.answers for m in self.of(tags))

    def counts(self, tags: set[str] | None = None) -> tuple[int, int, int, int]:
        """sent, answered, doubled, out of order."""
        messages = self.of(tags)
        answered = sum(1 for m in messages if m.answers)
        doubled = sum(1 for m in messages if len(m.answers) > 1) + (self.extra_replies if tags is None else 0)
        out_of_order = 0
        for order in self.answer_order.values():
            answered_in = [self.messages[tag] for tag in order if tags is None or tag in tags]
            for position, message in enumerate(answered_in):
                if any(_before(other, message) for other in answered_in[position + 1 :]):
                    out_of_order += 1
        return len(messages), answered, doubled, out_of_order

    def acknowledged(self, tag: str) -> None:
        message = self.messages.get(tag)
        if message is not None and message.acked is None:
            message.acked = time.monotonic()

    async def wait_answered(self, tags: set[str] | None, within: float) -> bool:
        deadline = time.monotonic() + within
        while not self.all_answered(tags):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return True


def _before(earlier: Sent, later: Sent) -> bool:
    """`earlier` was written before `later` in its thread and reached Sarah first."""
    return (
        earlier.order < later.order
        and earlier.acked is not None
        and later.acked is not None
        and earlier.acked < later.acked
    )


class FaultSlack(FakeSlack):
    """The Slack fake, reporting final replies to the ledger, failing on cue: `fail_next(n, status)`
    answers the next n calls with an HTTP error; a channel in `refused` answers channel_not_found;
    `refuse_lookups(n, channel)` refuses the next n conversations.replies calls there. `after_reply` is called with
    each final reply once Slack has stored it, before Sarah hears back (a crash can be planted there)."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger
        self.refused: set[str] = set()
        self.after_reply: Callable[[tuple[str, str], str], None] | None = None
        self.lookups_refused = 0
        self._failures: list[int] = []
        self._lookups_to_refuse: dict[str, int] = {}
        self._by_ts: dict[tuple[str, str], Posted] = {}

    def fail_next(self, calls: int, status: int = 503) -> None:
        self._failures.extend([status] * calls)

    def refuse_lookups(self, calls: int, channel: str) -> None:
        self._lookups_to_refuse[channel] = self._lookups_to_refuse.get(channel, 0) + calls

    async def _handle(self, request: web.Request) -> web.Response:
        if self._failures and request.match_info["method"] != "auth.test":
            status = self._failures.pop(0)
            return web.json_response({"ok": False, "error": "fatal_error"}, status=status)
        return await super()._handle(request)

    def _conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel"))
        if self._lookups_to_refuse.get(channel, 0) > 0:
            self._lookups_to_refuse[channel] -= 1
            self.lookups_refused += 1
            return {"ok": False, "error": "internal_error"}
        return super()._conversations_replies(p)

    def _chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") in self.refused:
            return {"ok": False, "error": "channel_not_found"}
        result = super()._chat_postMessage(p)
        message = self.messages[-1]
        self._by_ts[(message.channel, message.ts)] = message
        if message.thread_ts:
            self._report((message.channel, message.thread_ts), message.ts, p)
        return result

    def _chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") in self.refused:
            return {"ok": False, "error": "channel_not_found"}
        result = super()._chat_update(p)
        message = self._by_ts.get((p["channel"], p["ts"]))
        if result.get("ok") and message is not None and message.thread_ts:
            self._report((message.channel, message.thread_ts), message.ts, p)
        return result

    def _report(self, thread: tuple[str, str], ts: str, params: dict[str, Any]) -> None:
        text = _text_of(params)
        if THINKING.strip("_") in text and not TAG.search(text):
            return
        self.ledger.reply(thread, text, ts)
        if self.after_reply is not None:
            self.after_reply(thread, text)

    def stuck_placeholders(self, threads: set[tuple[str, str]]) -> int:
        """ "typing…" messages still showing in these threads."""
        return sum(
            1
            for m in self.messages
            if not m.deleted and m.thread_ts and (m.channel, m.thread_ts) in threads and THINKING.strip("_") in m.body
        )


def _text_of(params: dict[str, Any]) -> str:
    blocks = params.get("blocks") or ""
    blocks = blocks if isinstance(blocks, str) else json.dumps(blocks)
    return f"{params.get('text') or ''} {params.get('markdown_text') or ''} {blocks}"


class ModelScript:
    """What the model fake does, changed by the scenario: latency, and a failure for the first
    `fail_attempts` tries of each request (so the SDK's retry, or Sarah's next pass, succeeds)."""

    def __init__(self) -> None:
        self.latency = 0.2
        self.failure: Callable[[], Any] | None = None
        self.fail_attempts = 0
        self._attempts: dict[str, int] = {}

    def __call__(self, request: dict[str, Any]) -> Any:
        tags: list[str] = []
        for message in reversed(request["messages"]):
            if message["role"] == "assistant":
                break
            if message["role"] == "user":
                tags[:0] = TAG.findall(str(message.get("content") or ""))
        key = " ".join(tags)
        attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
        if self.failure is not None and attempt <= self.fail_attempts:
            return self.failure()
        labels = " ".join(f"[{tag}]" for tag in tags)
        return Delay(self.latency, f"Open the ZenNest app and follow the steps. {labels}")


def model_error(status: int) -> Callable[[], Any]:
    return lambda: HttpError(status, "rate_limit_exceeded" if status == 429 else "server_error")


class Gate:
    """A TCP door in front of a server: `close()` refuses connections (and cuts open ones) until
    `open()` again, on the same port, as a model server that went away and came back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        self._pipes.clear()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(_pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


class Customers:
    """Posts signed events the way Slack does: a request not answered 200 within 3 s is retried with
    X-Slack-Retry-Num (Slack retries 3 times over about 5 minutes; here every `retry_pause` s until
    `give_up_after` s, so a fault of a few seconds to a minute is covered in test time)."""

    def __init__(self, ledger: Ledger, urls: Callable[[], list[str]], *, give_up_after: float = 60.0) -> None:
        self.ledger = ledger
        self.urls = urls  # the ingress replicas, behind a round-robin "load balancer"
        self.give_up_after = give_up_after
        self.retry_pause = 0.5
        self.retries = 0
        self.given_up: list[str] = []
        self.acked: list[tuple[dict[str, Any], str]] = []  # (event, event_id) acknowledged with 200
        self._next = 0
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3))
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Stop sending: a row that failed may leave deliveries retrying."""
        while self._tasks:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._session.close()

    def write(self, channel: str, *, root: str | None = None, text: str = "", tag: str | None = None) -> str:
        """Send one customer message (in the background); returns the thread's root ts."""
        tag = tag or self.ledger.new_tag()
        ts = new_ts()
        thread = (channel, root or ts)
        self.ledger.sent(tag, thread)
        event = dm(f"[{tag}] {text or 'My ZenNest hub blinks blue, what now?'}", channel=channel, ts=ts, thread_ts=root)
        event["user"] = "U" + channel[1:]
        task = asyncio.create_task(self.deliver(event, f"Ev{tag}"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return thread[1]

    async def deliver(self, event: dict[str, Any], event_id: str, *, first_retry: int = 0) -> bool:
        body = json.dumps(envelope(event, event_id))
        deadline = time.monotonic() + self.give_up_after
        attempt = first_retry
        while True:
            urls = self.urls()
            url = urls[self._next % len(urls)]
            self._next += 1
            headers = signed_headers(body)
            if attempt:
                headers["X-Slack-Retry-Num"] = str(attempt)
                headers["X-Slack-Retry-Reason"] = "http_error"
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        self.acked.append((event, event_id))
                        self.ledger.acknowledged(event_id.removeprefix("Ev"))
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.given_up.append(event_id)
                return False
            attempt += 1
            self.retries += 1
            await asyncio.sleep(self.retry_pause)

    async def sent_all(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def start_fakes(ledger: Ledger, script: ModelScript) -> tuple[FaultSlack, FakeOpenAI, Gate]:
    slack, model = FaultSlack(ledger), FakeOpenAI(script)
    await slack.start()
    await model.start()
    gate = Gate(model.port)
    await gate.open()
    return slack, model, gate
