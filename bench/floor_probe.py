# The floor probe, bench/floor_probe.py: kept unchanged below these two lines (docs/benchmarks.md).
# ruff: noqa
# fmt: off
"""Floor probe: the thinnest Bolt AsyncApp -> Redis stream -> worker -> AsyncOpenAI -> AsyncWebClient path.

Not the product: a measurement of what this stack can do on this machine, to run under the same load
and fakes as Sarah so every figure can be read as a ratio. No hand-off, no per-thread order, no token
budget, no placeholder. Settings (environment):
  ROLE=both|ingress|worker   one process, or the ingress and the worker as separate processes
  PORT (3000), REDIS_URL (redis://127.0.0.1:6379/0, FLUSHED by the ingress at start),
  SLACK_API_URL (http://127.0.0.1:8101/api/), OPENAI_BASE_URL (http://127.0.0.1:8102/v1),
  SLACK_SIGNING_SECRET (bench-signing-secret), OAI_AIOHTTP=1 (the SDK's aiohttp transport, default on),
  PBR=1 (process_before_response), REDIS_CONNS (100), INFLIGHT (5000), UVLOOP=1.
Needs: slack-bolt, slack-sdk, openai[aiohttp], redis, aiohttp, uvloop. Prints "ready" when listening.
"""
import asyncio, json, os, sys
import redis.asyncio as aioredis
from aiohttp import ClientSession, TCPConnector, web
from openai import AsyncOpenAI, DefaultAioHttpClient
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.aiohttp import to_bolt_request, to_aiohttp_response
from slack_sdk.web.async_client import AsyncWebClient

SHARED_SESSION = os.environ.get("SHARED_SESSION", "1") == "1"
SYS = "You are Sarah, ZenNest's support assistant."
STREAM, GROUP = "proto:stream", "workers"

async def main() -> None:
    r = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), decode_responses=True, max_connections=int(os.environ.get("REDIS_CONNS", "100")), timeout=20))
    ROLE = os.environ.get("ROLE", "both")
    if ROLE != "worker":
        await r.flushdb()
    session = ClientSession(connector=TCPConnector(limit=0)) if SHARED_SESSION else None
    client = AsyncWebClient(token="xoxb-fake", base_url=os.environ.get("SLACK_API_URL", "http://127.0.0.1:8101/api/"), session=session)
    app = AsyncApp(signing_secret=os.environ.get("SLACK_SIGNING_SECRET", "bench-signing-secret"), client=client, process_before_response=os.environ.get("PBR", "1") == "1")
    oai = AsyncOpenAI(api_key="sk-fake", base_url=os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8102/v1"), timeout=30, max_retries=2, **({"http_client": DefaultAioHttpClient()} if os.environ.get("OAI_AIOHTTP", "1") == "1" else {}))

    async def enqueue(body: dict, event: dict, thread: str) -> None:
        if not await r.set(f"proto:seen:{body['event_id']}", 1, nx=True, ex=3600):
            return
        await r.xadd(STREAM, {"channel": event["channel"], "thread": thread, "text": event.get("text", "")}, maxlen=100000, approximate=True)

    @app.event("app_mention")
    async def on_mention(body, event):
        await enqueue(body, event, event.get("thread_ts") or event["ts"])

    @app.event("message")
    async def on_message(body, event):
        if event.get("subtype") or event.get("bot_id"):
            return
        if event.get("channel_type") == "im":
            await enqueue(body, event, event.get("thread_ts") or event["ts"])
        elif event.get("thread_ts"):
            await enqueue(body, event, event["thread_ts"])

    async def handle(eid: str, f: dict) -> None:
        key = f"proto:{{{f['channel']}:{f['thread']}}}:turns"
        hist = await r.lrange(key, -20, -1)
        msgs = [{"role": "system", "content": SYS}] + [json.loads(h) for h in hist] + [{"role": "user", "content": f["text"]}]
        resp = await oai.chat.completions.create(model="ft:gpt-4.1-mini:zennest::sarah", messages=msgs)
        text = resp.choices[0].message.content
        await client.chat_postMessage(channel=f["channel"], thread_ts=f["thread"], text=text)
        async with r.pipeline(transaction=True) as p:
            p.rpush(key, json.dumps({"role": "user", "content": f["text"]}), json.dumps({"role": "assistant", "content": text}))
            p.expire(key, 30 * 86400)
            p.xack(STREAM, GROUP, eid)
            await p.execute()

    async def worker() -> None:
        try:
            await r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except aioredis.ResponseError:
            pass
        sem = asyncio.Semaphore(int(os.environ.get("INFLIGHT", "5000")))
        while True:
            resp = await r.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=200, block=1000)
            for _, entries in resp or []:
                for eid, f in entries:
                    await sem.acquire()
                    t = asyncio.create_task(handle(eid, f))
                    t.add_done_callback(lambda _t: sem.release())

    async def events(req: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(req)))

    if ROLE == "worker":
        print("ready", flush=True)
        await worker()
        return
    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("PORT", "3000")), backlog=4096).start()
    print("ready", flush=True)
    if ROLE == "both":
        await worker()
    else:
        await asyncio.Event().wait()

if __name__ == "__main__":
    if os.environ.get("UVLOOP", "1") == "1":
        import uvloop; uvloop.install()
    asyncio.run(main())
