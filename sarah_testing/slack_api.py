"""A fake of Slack's Web API over real HTTP: it records what Sarah posts and answers like Slack.

Only the methods Sarah calls exist; any other method answers `unknown_method`, so a test notices a
call it did not expect. `rate_limit_next(n)` makes the next n calls answer 429 with Retry-After;
`delay` makes every call take that many seconds (a slow Slack). It also takes the answers Sarah sends
to a command's `response_url` (`hooks_url`; `answer_to`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from sarah_testing.server import LocalServer

BOT_USER_ID = "USARAH"
BOT_ID = "BSARAH"
TEAM_ID = "TZEN"
APP_ID = "ASARAH"


@dataclass
class Posted:
    """A message as it stands in the fake workspace (updates replace its text and blocks)."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str = BOT_USER_ID
    deleted: bool = False
    updates: int = 0
    metadata: dict[str, Any] | None = None  # chat.postMessage / chat.update `metadata`, as Slack keeps it
    streaming: bool = False  # started with chat.startStream and not stopped yet
    streamed: bool = False  # the message was written by a stream
    started_at: float = 0.0  # when its stream started (time.monotonic)
    subtype: str | None = None  # e.g. channel_join, for messages added with `add_message`

    @property
    def body(self) -> str:
        """What a person reads: markdown/section block text when there are blocks, else `text`."""
        parts = []
        for block in self.blocks:
            if block.get("type") == "markdown":
                parts.append(block["text"])
            elif block.get("type") == "section":
                if isinstance(block.get("text"), dict):
                    parts.append(block["text"]["text"])
                parts.extend(field["text"] for field in block.get("fields", []))
            elif block.get("type") in ("context", "header"):
                elements = block.get("elements") or [block.get("text", {})]
                parts.extend(e.get("text", "") for e in elements)
            elif block.get("type") == "rich_text":
                parts.extend(
                    "".join(e.get("text", "") for e in element.get("elements", [])) for element in block["elements"]
                )
        return "\n".join(parts) if parts else self.text


class FakeSlack(LocalServer):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[Posted] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}
        self.token_valid = True
        self.token_revoked = False  # every method answers token_revoked (the app was uninstalled)
        self.app_token_valid = True  # apps.connections.open (Socket Mode's app-level token)
        self.usergroups: dict[str, list[str]] = {}
        # conversations.info fields per channel, over the defaults (private, not shared)
        self.channel_info: dict[str, dict[str, Any]] = {}
        self.failing: set[str] = set()  # methods that answer {"ok": false, "error": "internal_error"}
        self.home_views: dict[str, dict[str, Any]] = {}  # views.publish: user → the App Home view they see
        self.modals: list[dict[str, Any]] = []  # views.open: every modal opened, in order
        self._clock = itertools.count(1)
        self._rate_limited = 0
        # Streaming (chat.startStream / appendStream / stopStream) and the loading status.
        self.statuses: list[dict[str, Any]] = []  # assistant.threads.setStatus calls, in order
        self.refuse_status = ""  # an error code setStatus answers with (e.g. "missing_scope"); "" accepts
        self.stream_max_age = 300.0  # seconds after which a stream answers message_not_in_streaming_state
        self.tier2_per_minute = 20  # chat.startStream + chat.stopStream calls a minute before 429
        self._tier2_calls: list[float] = []
        self._method_limited: dict[str, int] = {}  # method → how many of its next calls answer 429
        self._method_retry_after: dict[str, int] = {}  # method → the Retry-After of those 429s
        self.refuse_blocks: set[str] = set()  # block types chat.* answers invalid_blocks for
        # channel → the error chat.postMessage answers there (e.g. "not_in_channel", "channel_not_found")
        self.refused_channels: dict[str, str] = {}
        self.delay = 0.0  # seconds every Web API call takes before it is answered
        self.hooked: dict[str, list[dict[str, Any]]] = {}  # response_url path → what was posted there, in order
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/hooks/{path:.*}", self._hook)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[str] = []
        super().__init__(app)

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def hooks_url(self) -> str:
        """Where the response_url of a test's commands points (SlackSender(hooks=...))."""
        return self.url + "/hooks"

    async def answer_to(self, command: dict[str, str], within: float = 10.0) -> str:
        """The text of the first message Sarah sent to `command`'s response_url (waits for it)."""
        path = urlsplit(command["response_url"]).path
        posted = await self.wait_for(lambda: self.hooked.get(path), within=within)
        return str(posted[0].get("text", ""))

    def rate_limit_next(self, calls: int) -> None:
        self._rate_limited = calls

    def rate_limit_method(self, method: str, calls: int, *, retry_after: int = 30) -> None:
        """The next `calls` calls of `method` answer 429 with Retry-After (others go through)."""
        self._method_limited[method] = calls
        self._method_retry_after[method] = retry_after

    def streamed_messages(self) -> list[Posted]:
        return [m for m in self.messages if m.streamed]

    def thread(self, channel: str, thread_ts: str) -> list[Posted]:
        """Sarah's visible messages in one thread, in order."""
        return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts and not m.deleted]

    def buttons(self, message: Posted) -> list[str]:
        """The action ids of a message's buttons (`actions` blocks, and `context_actions` such as
        Slack's feedback_buttons)."""
        return [
            e["action_id"]
            for b in message.blocks
            if b.get("type") in ("actions", "context_actions")
            for e in b["elements"]
        ]

    def as_payload(self, message: Posted) -> dict[str, Any]:
        """The `message` object Slack puts in a block_actions payload."""
        return {
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
            "user": message.user,
        }

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        thread_ts: str | None = None,
        ts: str | None = None,
        subtype: str | None = None,
    ) -> Posted:
        """A message someone other than Sarah wrote (seen by conversations.replies), e.g. the start of a
        channel thread Sarah is mentioned in later."""
        message = Posted(channel, ts or self._next_ts(), thread_ts, text, user=user, subtype=subtype)
        self.messages.append(message)
        return message

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every API call), or fail the test."""

        async def until() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(until(), within)

    def _next_ts(self) -> str:
        """Odd microseconds: `new_ts` (the messages a test writes) takes the even ones."""
        return f"{int(time.time())}.{(2 * next(self._clock) + 1) % 1_000_000:06d}"

    async def _hook(self, request: web.Request) -> web.Response:
        """A message sent to a response_url: Slack answers "ok" (and shows it to the person)."""
        self.hooked.setdefault("/" + request.match_info["path"], []).append(await request.json())
        async with self._changed:
            self._changed.notify_all()
        return web.Response(text="ok")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        if self._method_limited.get(method, 0) > 0 or self._over_tier2(method):
            self._method_limited[method] = max(0, self._method_limited.get(method, 0) - 1)
            self.calls.append((method + ":429", params))
            async with self._changed:
                self._changed.notify_all()
            retry_after = str(self._method_retry_after.get(method, 30))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": retry_after}
            )
        self.calls.append((method, params))
        if self.token_revoked:
            return web.json_response({"ok": False, "error": "token_revoked"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        result = handler(params) if handler else {"ok": False, "error": "unknown_method"}
        if method in self.failing:
            result = {"ok": False, "error": "internal_error"}
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(result)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then read the app's acknowledgements until it hangs up."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "ASARAH"}})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                envelope_id = json.loads(message.data).get("envelope_id")
                if envelope_id:
                    self.socket_acks.append(envelope_id)
                    async with self._changed:
                        self._changed.notify_all()
        self.sockets.remove(socket)
        return socket

    async def push(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Send an envelope to the connected Socket Mode client; returns its envelope id."""
        envelope_id = f"env-{next(self._clock)}"
        for socket in self.sockets:
            await socket.send_json(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                }
            )
        return envelope_id

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        if not self.app_token_valid:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        if not self.token_valid:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True,
            "url": "https://zennest.slack.com/",
            "team": "ZenNest",
            "user": "sarah",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _bots_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "bot": {"id": p.get("bot"), "app_id": APP_ID, "user_id": BOT_USER_ID, "deleted": False}}

    def _chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") in self.refused_channels:
            return {"ok": False, "error": self.refused_channels[p["channel"]]}
        if self._refused_blocks(p):
            return {"ok": False, "error": "invalid_blocks"}
        ts = self._next_ts()
        message = Posted(
            p["channel"], ts, p.get("thread_ts"), p.get("text") or p.get("markdown_text") or "", _blocks(p)
        )
        message.metadata = _metadata(p)
        self.messages.append(message)
        return {"ok": True, "channel": p["channel"], "ts": ts, "message": {"text": message.text, "ts": ts}}

    def _over_tier2(self, method: str) -> bool:
        """chat.startStream and chat.stopStream share Tier 2: about 20 calls a minute per workspace."""
        if method not in ("chat.startStream", "chat.stopStream"):
            return False
        now = time.monotonic()
        self._tier2_calls = [t for t in self._tier2_calls if now - t < 60]
        if len(self._tier2_calls) >= self.tier2_per_minute:
            return True
        self._tier2_calls.append(now)
        return False

    def _refused_blocks(self, p: dict[str, Any]) -> bool:
        types = {b.get("type") for b in _blocks(p)}
        types |= {e.get("type") for b in _blocks(p) for e in b.get("elements", []) if isinstance(e, dict)}
        return bool(types & self.refuse_blocks)

    def _assistant_threads_setStatus(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_status:
            return {"ok": False, "error": self.refuse_status}
        if not p.get("channel_id") or not p.get("thread_ts") or "status" not in p:
            return {"ok": False, "error": "invalid_arguments"}
        if len(p.get("loading_messages") or []) > 10:
            return {"ok": False, "error": "invalid_arguments"}
        self.statuses.append(p)
        return {"ok": True}

    def _streaming(self, p: dict[str, Any]) -> Posted | dict[str, Any]:
        """The stream `p` names, or the error Slack answers about it."""
        for message in self.messages:
            if message.channel == p.get("channel") and message.ts == p.get("ts") and not message.deleted:
                if message.streaming and time.monotonic() - message.started_at > self.stream_max_age:
                    message.streaming = False  # Slack ends a stream nobody touched for too long
                if not message.streaming:
                    return {"ok": False, "error": "message_not_in_streaming_state"}
                return message
        return {"ok": False, "error": "message_not_found"}

    @staticmethod
    def _stream_text(p: dict[str, Any]) -> str:
        chunks = p.get("chunks") or []
        if isinstance(chunks, str):
            chunks = json.loads(chunks)
        return (p.get("markdown_text") or "") + "".join(
            c.get("text", "") for c in chunks if c.get("type") == "markdown_text"
        )

    def _chat_startStream(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel") or ""
        if not channel or not p.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        if not channel.startswith("D") and not (p.get("recipient_team_id") and p.get("recipient_user_id")):
            return {"ok": False, "error": "invalid_arguments"}  # required outside DMs
        text = self._stream_text(p)
        if len(text) > 12_000:
            return {"ok": False, "error": "msg_too_long"}
        ts = self._next_ts()
        message = Posted(channel, ts, p["thread_ts"], text, [{"type": "markdown", "text": text}])
        message.streaming = message.streamed = True
        message.started_at = time.monotonic()
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_appendStream(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(p)
        if isinstance(message, dict):
            return message
        text = self._stream_text(p)
        if not text or len(text) > 12_000:
            return {"ok": False, "error": "msg_too_long" if text else "invalid_arguments"}
        if len(message.text) + len(text) > 12_000:
            return {"ok": False, "error": "msg_too_long"}
        message.text += text
        message.blocks[0]["text"] = message.text
        message.updates += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_stopStream(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(p)
        if isinstance(message, dict):
            return message
        if self._refused_blocks(p):
            return {"ok": False, "error": "invalid_blocks"}
        text = self._stream_text(p)
        if len(message.text) + len(text) > 12_000:
            return {"ok": False, "error": "msg_too_long"}
        message.text += text
        message.blocks[0]["text"] = message.text
        message.blocks.extend(_blocks(p))
        message.metadata = _metadata(p) or message.metadata
        message.streaming = False
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": {"text": message.text}}

    def _chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == p["channel"] and message.ts == p["ts"] and not message.deleted:
                if self._refused_blocks(p):
                    return {"ok": False, "error": "invalid_blocks"}
                message.streaming = False  # an edit ends what is left of a stream
                message.text = p.get("text") or p.get("markdown_text") or ""
                message.blocks = _blocks(p)
                message.metadata = _metadata(p) or message.metadata
                message.updates += 1
                return {"ok": True, "channel": p["channel"], "ts": p["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def _chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == p["channel"] and message.ts == p["ts"]:
                message.deleted = True
                return {"ok": True}
        return {"ok": False, "error": "message_not_found"}

    def _chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "permalink": f"https://zennest.slack.com/archives/{p['channel']}/p{p['message_ts']}"}

    def _conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        """A thread's messages, oldest first, paged by `limit`/`cursor` (the fake keeps only the
        messages Sarah posted); `metadata` only with include_all_metadata, as Slack does."""
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        oldest = float(p.get("oldest") or 0)
        latest = float(p.get("latest") or "inf")
        inclusive = str(p.get("inclusive", "")).lower() in ("1", "true")
        thread = [
            m
            for m in self.messages
            if m.channel == p["channel"]
            and (m.thread_ts == p["ts"] or m.ts == p["ts"])
            and not m.deleted
            and (m.ts == p["ts"] or float(m.ts) > oldest)
            and (float(m.ts) < latest or (inclusive and float(m.ts) == latest))
        ]
        start = int(p.get("cursor") or 0)
        limit = min(int(p.get("limit") or 10), 15)  # apps outside the Marketplace get 15 at most
        page = thread[start : start + limit]
        more = start + limit < len(thread)
        messages = []
        for m in page:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "thread_ts": m.thread_ts or m.ts, "text": m.text}
            item["user"] = m.user
            if m.user == BOT_USER_ID:
                item["bot_id"] = BOT_ID
            if m.subtype:
                item["subtype"] = m.subtype
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            messages.append(item)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _assistant_threads_setSuggestedPrompts(self, p: dict[str, Any]) -> dict[str, Any]:
        """Up to four prompts, each with a title and a message; thread_ts is optional (agent apps)."""
        prompts = p.get("prompts")
        if isinstance(prompts, str):
            prompts = json.loads(prompts)
        if not p.get("channel_id") or not isinstance(prompts, list) or not prompts:
            return {"ok": False, "error": "invalid_arguments"}
        if len(prompts) > 4 or any(not (q.get("title") and q.get("message")) for q in prompts):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _assistant_threads_setTitle(self, p: dict[str, Any]) -> dict[str, Any]:
        if not (p.get("channel_id") and p.get("thread_ts") and p.get("title")):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        if not self.token_valid:
            return {"ok": False, "error": "invalid_auth"}
        members = self.channel_members.get(p["channel"], [])
        info = {
            "id": p["channel"],
            "is_member": BOT_USER_ID in members,
            "is_private": True,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "num_members": len(members),
        }
        return {"ok": True, "channel": {**info, **self.channel_info.get(p["channel"], {})}}

    def _conversations_members(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "members": self.channel_members.get(p["channel"], []),
            "response_metadata": {"next_cursor": ""},
        }

    def _usergroups_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "users": self.usergroups.get(p["usergroup"], [])}

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(p["view"]) if isinstance(p.get("view"), str) else p.get("view")
        problems = block_kit_problems(view)
        if problems:  # what Slack answers to a view it refuses
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        self.home_views[p["user_id"]] = view
        return {"ok": True, "view": {"id": "V1", **view}}

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        view = json.loads(p["view"]) if isinstance(p.get("view"), str) else p.get("view")
        if not p.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        self.modals.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.modals)}", **view}}

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(p["user"], {"id": p["user"], "name": p["user"].lower(), "real_name": f"User {p['user']}"})
        return {"ok": True, "user": user}


async def _params(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        data.update(await request.json())
    elif request.method == "POST":
        data.update(await request.post())
    return data


def _metadata(params: dict[str, Any]) -> dict[str, Any] | None:
    metadata = params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return metadata if isinstance(metadata, dict) else None


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


# Block Kit limits from Slack's reference (views, blocks, composition objects), for views.publish.
_VIEW_BLOCKS = {"section", "divider", "header", "context", "actions", "image", "rich_text", "markdown", "input"}


def block_kit_problems(view: Any) -> list[str]:
    """What Slack would refuse in a Home tab view: unknown block types, over-long texts, too many blocks."""
    if not isinstance(view, dict) or view.get("type") != "home":
        return ["view: must be an object with type home"]
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 100:
        return ["view.blocks: 1 to 100 blocks"]
    problems: list[str] = []

    def text(obj: Any, where: str, limit: int, plain_only: bool = False) -> None:
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if not isinstance(obj, dict) or obj.get("type") not in kinds:
            problems.append(f"{where}: a text object of type {' or '.join(kinds)}")
        elif not 0 < len(str(obj.get("text", ""))) <= limit:
            problems.append(f"{where}: text of 1 to {limit} characters")

    def element(obj: Any, where: str) -> None:
        if not isinstance(obj, dict) or obj.get("type") != "button":
            problems.append(f"{where}: only buttons are expected here")
            return
        text(obj.get("text"), where + ".text", 75, plain_only=True)
        if len(str(obj.get("action_id", ""))) > 255 or len(str(obj.get("url", ""))) > 3000:
            problems.append(f"{where}: action_id ≤ 255, url ≤ 3000 characters")

    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _VIEW_BLOCKS:
            problems.append(f"{where}: unknown block type {kind!r}")
            continue
        if kind == "header":
            text(block.get("text"), where + ".text", 150, plain_only=True)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                text(block["text"], where + ".text", 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}.fields: at most 10")
            for j, field_ in enumerate(fields):
                text(field_, f"{where}.fields[{j}]", 2000)
            if "accessory" in block:
                element(block["accessory"], where + ".accessory")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 0 < len(elements) <= 10:
                problems.append(f"{where}.elements: 1 to 10")
            for j, item in enumerate(elements):
                text(item, f"{where}.elements[{j}]", 3000)
        elif kind == "actions":
            for j, item in enumerate(block.get("elements", [])):
                element(item, f"{where}.elements[{j}]")
    return problems
