"""The benchmarks' Slack fake: FakeSlack that tells the load generator's ledger every text it shows.

Why one class: bench/throughput.py and bench/compare.py both learn that a message is answered from
what Slack shows (a tag `[bench m000123]` in a posted, edited or streamed text), and both need
messages found by ts in O(1) (FakeSlack scans its list, too slow for thousands of messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sarah_testing.slack_api import FakeSlack, Posted

Shown = Callable[[tuple[str, str], str], None]  # (channel, ts) of a Slack message, the text it now shows


class BenchSlack(FakeSlack):
    """Calls `shown((channel, ts), text)` whenever a message is posted, edited or its stream stops.

    `while_streaming`: a stream's text counts as shown from its first chunk on (what a person sees),
    not only once the stream stops."""

    def __init__(self, shown: Shown, *, while_streaming: bool) -> None:
        super().__init__()
        self._shown = shown
        self._while_streaming = while_streaming
        self._by_ts: dict[tuple[str, str], Posted] = {}

    def _chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        result = super()._chat_postMessage(p)
        if result.get("ok"):
            message = self.messages[-1]
            self._by_ts[(message.channel, message.ts)] = message
            self._shown((message.channel, message.ts), text_of(p))
        return result

    def _chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._by_ts.get((p["channel"], p["ts"]))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        message.text = p.get("text") or p.get("markdown_text") or ""
        message.blocks = json.loads(p["blocks"]) if isinstance(p.get("blocks"), str) else list(p.get("blocks") or [])
        message.updates += 1
        self._shown((p["channel"], p["ts"]), text_of(p))
        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}

    def _chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._by_ts.get((p["channel"], p["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.deleted = True
        return {"ok": True}

    def _chat_startStream(self, p: dict[str, Any]) -> dict[str, Any]:
        result = super()._chat_startStream(p)
        if result.get("ok"):
            message = self.messages[-1]
            self._by_ts[(message.channel, message.ts)] = message
            if self._while_streaming:
                self._shown((message.channel, message.ts), message.text)
        return result

    def _chat_appendStream(self, p: dict[str, Any]) -> dict[str, Any]:
        result = super()._chat_appendStream(p)
        if self._while_streaming:
            self._streamed(p, result)
        return result

    def _chat_stopStream(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._streamed(p, super()._chat_stopStream(p))

    def _streamed(self, p: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        message = self._by_ts.get((p.get("channel") or "", p.get("ts") or ""))
        if result.get("ok") and message is not None:
            self._shown((message.channel, message.ts), message.text + " " + json.dumps(message.blocks))
        return result


def text_of(params: dict[str, Any]) -> str:
    """Everything a chat.postMessage or chat.update shows: text, markdown_text and blocks."""
    blocks = params.get("blocks") or ""
    blocks = blocks if isinstance(blocks, str) else json.dumps(blocks)
    return f"{params.get('text') or ''} {params.get('markdown_text') or ''} {blocks}"
