"""A fake of OpenAI's files + fine-tuning API (and Azure OpenAI's) over real HTTP on 127.0.0.1.

It runs its own event loop in a thread, so both the synchronous client of `sarah train finetune`
and the async client of the retirement check can talk to it. A job moves queued → running →
succeeded over successive `retrieve` calls, emits message and metrics events on the way, and on
success has a base64 result CSV in `result_files` (as OpenAI serves it) and a fine-tuned model id.
`/v1/models/{id}` answers for the models in `models`, with a `shutdown_date` when a test sets one.
Azure's paths live under `/openai/…`, require the `api-version` query and the `api-key` header.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sarah_testing.openai_chat import FakeOpenAI

API_KEY = "sk-test-finetune-key"

RESULT_CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,"
    "full_valid_mean_token_accuracy\n"
    "1,1.9512,0.51,,,,\n"
    "2,1.6034,0.58,1.7021,0.55,,\n"
    "3,1.2277,0.64,,,,\n"
    "4,0.9481,0.70,1.0103,0.68,,\n"
    "5,0.7715,0.74,,,,\n"
    "6,0.5983,0.79,0.8123,0.73,0.8023,0.74\n"
)
FINAL_LOSSES = (0.5983, 0.8123, 0.8023)  # train, valid, full valid: what the CLI must print
TOTAL_STEPS = 6

# The status a job reports at its n-th retrieve (the last one repeats).
PROGRESSION = ("validating_files", "queued", "running", "running", "succeeded")


@dataclass
class FakeFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))
    reads: int = 0  # a new upload reads as `uploaded` once, then `processed`

    def as_json(self) -> dict[str, Any]:
        status = "uploaded" if self.reads == 0 and self.purpose == "fine-tune" else "processed"
        self.reads += 1
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": status,
        }


@dataclass
class FakeJob:
    id: str
    params: dict[str, Any]
    azure: bool
    fails: bool = False
    retrieves: int = 0
    status: str = "validating_files"
    fine_tuned_model: str | None = None
    result_files: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "created_at": self.created_at,
            "model": self.params["model"],
            "status": self.status,
            "fine_tuned_model": self.fine_tuned_model,
            "training_file": self.params["training_file"],
            "validation_file": self.params.get("validation_file"),
            "result_files": self.result_files,
            "seed": self.params.get("seed", 0),
            "hyperparameters": {"n_epochs": _epochs(self.params)},
            "method": self.params.get("method"),
            "integrations": self.params.get("integrations"),
            "suffix": self.params.get("suffix"),
            "trained_tokens": 1234 if self.status == "succeeded" else None,
            "error": self.error,
            "organization_id": "org-zennest",
            "finished_at": None,
            "estimated_finish": None,
        }


def _epochs(params: dict[str, Any]) -> Any:
    method = params.get("method") or {}
    from_method = (method.get("supervised") or {}).get("hyperparameters", {}).get("n_epochs")
    return from_method if from_method is not None else (params.get("hyperparameters") or {}).get("n_epochs", "auto")


class FakeFineTuningServer:
    """Start with `start()` (or `with`), read `base_url` / `azure_endpoint`, inspect the state."""

    def __init__(self) -> None:
        self.files: dict[str, FakeFile] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.models: dict[str, dict[str, Any]] = {
            name: {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
            for name in ("gpt-4.1-mini-2025-04-14", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14")
        }
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, query
        self.fail_jobs = False
        self.chat: FakeOpenAI | None = None  # answers /chat/completions when set (see `_chat`)
        self.stuck_at: str | None = None  # e.g. "paused" or "running": jobs stay there once past queued
        self._failures: list[list[Any]] = []  # [method, path suffix, status, code, message, times left]
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-finetune", daemon=True)
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeFineTuningServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FakeFineTuningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_with(self, method: str, path_suffix: str, status: int, code: str, message: str, times: int = 1) -> None:
        """Answer the next `times` matching requests with an OpenAI-style error (retries included)."""
        self._failures.append([method, path_suffix, status, code, message, times])

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        """The tuned and the current model answer here (the promotion gate plays scenarios with them)
        when `chat` is set: a FakeOpenAI whose responder answers by model name."""
        if self.chat is None:
            return _error(404, "This fake serves no chat completions (set .chat).", "404")
        return await self.chat.completions(request)

    def add_model(self, name: str, **fields: Any) -> None:
        self.models[name] = {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "system", **fields}

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._auth], client_max_size=50 * 1024 * 1024)
        for prefix in ("/v1", "/openai"):
            app.router.add_post(f"{prefix}/files", self._upload)
            app.router.add_get(prefix + "/files/{id}", self._file)
            app.router.add_get(prefix + "/files/{id}/content", self._file_content)
            app.router.add_post(f"{prefix}/fine_tuning/jobs", self._create_job)
            app.router.add_get(f"{prefix}/fine_tuning/jobs", self._list_jobs)
            app.router.add_get(prefix + "/fine_tuning/jobs/{id}", self._retrieve_job)
            app.router.add_get(prefix + "/fine_tuning/jobs/{id}/events", self._events)
            app.router.add_post(prefix + "/fine_tuning/jobs/{id}/cancel", self._cancel)
            app.router.add_get(prefix + "/models/{id}", self._model)
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    # -- middleware ----------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.query)))
        if request.path.startswith("/openai/"):
            if "api-version" not in request.query:
                return _error(404, "Resource not found", "404")
            if request.headers.get("api-key") != API_KEY:
                return _error(401, "Access denied due to invalid subscription key.", "401")
        elif request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key", "invalid_request_error")
        for failure in self._failures:
            method, suffix, status, code, message, times = failure
            if times > 0 and request.method == method and request.path.endswith(suffix):
                failure[5] -= 1
                response = _error(status, message, code)
                response.headers["retry-after-ms"] = "10"  # keep the SDK's own retries fast
                return response
        response: web.StreamResponse = await handler(request)
        return response

    # -- files ---------------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        fields = _multipart_fields(request.headers.get("Content-Type", ""), await request.read())
        if "file" not in fields:
            return _error(400, "No file was uploaded.", "invalid_request")
        filename, content = fields["file"]
        file = FakeFile(f"file-{next(self._ids)}", filename, fields.get("purpose", ("", b""))[1].decode(), content)
        self.files[file.id] = file
        return web.json_response(file.as_json())

    async def _file(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        return web.json_response(file.as_json()) if file else _error(404, "No such File object.", "not_found")

    async def _file_content(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        if file is None:
            return _error(404, "No such File object.", "not_found")
        return web.Response(body=file.content, content_type="application/octet-stream")

    # -- jobs ----------------------------------------------------------------------------------

    async def _create_job(self, request: web.Request) -> web.Response:
        params = await request.json()
        if params.get("model") not in self.models:
            return _error(400, f"Model {params.get('model')} is not available for fine-tuning.", "model_not_available")
        for key in ("training_file", "validation_file"):
            if params.get(key) is not None and params[key] not in self.files:
                return _error(400, f"invalid {key}: {params[key]}", "invalid_file")
            if params.get(key) is not None and self.files[params[key]].reads < 2:
                return _error(400, f"File {params[key]} is still being processed and is not ready.", "file_not_ready")
        job = FakeJob(
            f"ftjob-{next(self._ids):04d}", params, azure=request.path.startswith("/openai/"), fails=self.fail_jobs
        )
        job.events.append(self._event(job, "Validating training file"))
        self.jobs[job.id] = job
        return web.json_response(job.as_json())

    async def _list_jobs(self, request: web.Request) -> web.Response:
        data = [job.as_json() for job in reversed(self.jobs.values())]
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def _retrieve_job(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return _error(404, f"Could not find fine-tune job: {request.match_info['id']}", "fine_tune_not_found")
        self._advance(job)
        return web.json_response(job.as_json())

    async def _events(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return _error(404, "Could not find fine-tune job.", "fine_tune_not_found")
        limit = int(request.query.get("limit", 20))
        newest_first = list(reversed(job.events))[:limit]
        return web.json_response({"object": "list", "data": newest_first, "has_more": len(job.events) > limit})

    async def _cancel(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return _error(404, "Could not find fine-tune job.", "fine_tune_not_found")
        job.status = "cancelled"
        return web.json_response(job.as_json())

    def _advance(self, job: FakeJob) -> None:
        if job.status in ("succeeded", "failed", "cancelled"):
            return
        job.retrieves += 1
        if self.stuck_at is not None and job.retrieves >= 3:
            job.status = self.stuck_at
            return
        status = PROGRESSION[min(job.retrieves, len(PROGRESSION)) - 1]
        if status == job.status:
            if status == "running":  # half the steps on each poll while running
                self._metrics(job, range(4, TOTAL_STEPS + 1))
            return
        job.status = status
        if status == "queued":
            job.events.append(self._event(job, "Files validated, moving job to queued state"))
        elif status == "running":
            job.events.append(self._event(job, "Fine-tuning job started"))
            self._metrics(job, range(1, 4))
        elif status == "succeeded" and job.fails:
            job.status = "failed"
            job.error = {
                "code": "invalid_training_file",
                "message": "The job failed: training file too small.",
                "param": "training_file",
            }
            job.events.append(self._event(job, "Fine-tuning job failed", level="error"))
        elif status == "succeeded":
            suffix = job.params.get("suffix") or ""
            model = job.params["model"]
            job.fine_tuned_model = (
                f"{model}.ft-{job.id[-4:]}-{suffix}" if job.azure else f"ft:{model}:zennest:{suffix}:{job.id[-4:]}x"
            )
            result = FakeFile(
                f"file-{next(self._ids)}",
                "step_metrics.csv",
                "fine-tune-results",
                base64.b64encode(RESULT_CSV.encode()),
            )
            self.files[result.id] = result
            job.result_files = [result.id]
            job.events.append(self._event(job, f"New fine-tuned model created: {job.fine_tuned_model}"))
            job.events.append(self._event(job, "The job has successfully completed"))

    def _metrics(self, job: FakeJob, steps: range) -> None:
        rows = RESULT_CSV.splitlines()[1:]
        for step in steps:
            loss = float(rows[step - 1].split(",")[1])
            job.events.append(
                self._event(
                    job,
                    f"Step {step}/{TOTAL_STEPS}: training loss={loss:.4f}",
                    kind="metrics",
                    data={"step": step, "train_loss": loss, "total_steps": TOTAL_STEPS},
                )
            )

    def _event(
        self,
        job: FakeJob,
        message: str,
        *,
        level: str = "info",
        kind: str = "message",
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "id": f"ftevent-{next(self._ids)}",
            "object": "fine_tuning.job.event",
            "created_at": int(time.time()),
            "level": level,
            "message": message,
            "type": kind,
            "data": data or {},
        }

    # -- models --------------------------------------------------------------------------------

    async def _model(self, request: web.Request) -> web.Response:
        name = request.match_info["id"]
        if name in self.models:
            return web.json_response(self.models[name])
        for job in self.jobs.values():
            if job.fine_tuned_model == name:
                return web.json_response(
                    {"id": name, "object": "model", "created": job.created_at, "owned_by": "zennest"}
                )
        return _error(404, f"The model '{name}' does not exist", "model_not_found")


def _multipart_fields(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """{field name: (file name, bytes)} of a multipart/form-data body (read whole: uploads are small)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return {}
    fields: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if name:
            fields[name.group(1).decode()] = (filename.group(1).decode() if filename else "", content)
    return fields


def _error(status: int, message: str, code: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status)
