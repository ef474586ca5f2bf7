"""The files + fine-tuning jobs flow, shared by OpenAI and Azure OpenAI (same SDK surface).

upload both files (stripped of our own keys) → create the job → poll it, showing status, events and
steps → on success download the result CSV → print the losses, draw the PNG, log our own W&B run.
`run_job` is that flow; each backend keeps only what differs: its client, the checks before a job and
what it says once the model exists. `client` is an `openai.OpenAI` or `openai.AzureOpenAI`; `sleep`
is injectable so tests run fast.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.training import TrainingSettings
from training.examples import write_upload_file
from training.progress import Progress
from training.results import FinalLosses, final_losses, log_to_wandb, parse_results, plot_losses, write_results_csv

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# Statuses in which the job waits for something: following goes on (the API's own words, shown as they are).
WAITING_STATUSES = frozenset({"validating_files", "queued", "running"})
# A paused job stays paused until someone resumes it: following it would wait for ever.
PAUSED_STATUS = "paused"
MIN_TRAINING_EXAMPLES = 10
DEFAULT_WANDB_PROJECT = "sarah-finetune"  # our own W&B run is logged even without WANDB_PROJECT
CLIENT_TIMEOUT_SECONDS = 45.0


@dataclass(frozen=True, slots=True)
class Run:
    """What the command was asked to do (from the CLI and the settings)."""

    train: Path
    valid: Path
    out_dir: Path
    env_file: Path
    base_model: str
    epochs: int
    suffix: str
    seed: int
    resume: str | None = None
    follow_timeout_minutes: float = 1440.0
    force_promote: bool = False  # record SARAH_MODEL without the promotion gate
    gate_tries: int = 3  # tries of each scenario per model in the promotion gate


class FlowError(Exception):
    """The flow cannot go on; the message is one sentence for the user."""


class FollowTimeout(Exception):
    """The job did not end within the follow timeout; the message names the job and how to resume."""


def resume_hint(job_id: str, backend: str) -> str:
    """The command that follows `job_id` again."""
    flag = " --backend azure" if backend == "azure" else ""
    return f"sarah train finetune{flag} --resume {job_id}"


def paused_message(job_id: str, backend: str) -> str:
    """What to do about a paused job: nothing is recorded until it runs again."""
    return (
        f"Job {job_id} is paused: it trains no further until it is resumed (in the dashboard, or "
        f"POST /fine_tuning/jobs/{job_id}/resume). Then follow it with: {resume_hint(job_id, backend)}"
    )


@dataclass(frozen=True, slots=True)
class JobRequest:
    base_model: str
    epochs: int
    suffix: str
    seed: int
    integrations: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    job_id: str
    fine_tuned_model: str
    losses: FinalLosses
    csv_path: Path
    png_path: Path
    wandb_dir: Path | None


def prepare_uploads(train: Path, valid: Path, out_dir: Path) -> tuple[Path, Path]:
    """Copies of both files without our `objective` field, as OpenAI accepts them."""
    for path in (train, valid):
        if not path.exists():
            raise FlowError(f"{path} does not exist: run `sarah train split` first.")
    upload_dir = out_dir / "upload"
    train_upload, valid_upload = upload_dir / "train.jsonl", upload_dir / "valid.jsonl"
    try:
        count = write_upload_file(train, train_upload)
        write_upload_file(valid, valid_upload)
    except ValueError as error:
        raise FlowError(f"{error}: run `sarah train validate` to see every problem.") from None
    if count < MIN_TRAINING_EXAMPLES:
        raise FlowError(f"{train} has {count} examples; fine-tuning needs at least {MIN_TRAINING_EXAMPLES}.")
    return train_upload, valid_upload


def upload(
    client: Any,
    path: Path,
    *,
    poll_seconds: float = 2.0,
    max_wait_seconds: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Upload one file for fine-tuning and wait until the API has processed it; return its id.

    A job created on a file that is still being processed is refused, so the wait saves a failed job.
    """
    with path.open("rb") as handle:
        file = client.files.create(file=(path.name, handle), purpose="fine-tune")
    waited = 0.0
    while getattr(file, "status", "processed") not in ("processed", None):
        if file.status == "error":
            detail = getattr(file, "status_details", None) or "no details"
            raise FlowError(f"The API could not process {path.name}: {detail}")
        if waited >= max_wait_seconds:
            raise FlowError(f"{path.name} was still being processed after {max_wait_seconds:.0f} s; try again later.")
        sleep(poll_seconds)
        waited += poll_seconds
        file = client.files.retrieve(file.id)
    return str(file.id)


def create_job(client: Any, request: JobRequest, training_file: str, validation_file: str) -> Any:
    """Create the supervised job with our epochs, suffix, seed and (optionally) the W&B integration."""
    options: dict[str, Any] = {}
    if request.integrations:
        options["integrations"] = request.integrations
    return client.fine_tuning.jobs.create(
        model=request.base_model,
        training_file=training_file,
        validation_file=validation_file,
        suffix=request.suffix,
        seed=request.seed,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": request.epochs}}},
        **options,
    )


def follow(
    client: Any,
    job_id: str,
    progress: Progress,
    *,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    timeout_seconds: float = float("inf"),
    backend: str = "openai",
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Poll the job until it ends or pauses, feeding the progress display; return the last job seen.

    Raises FollowTimeout after `timeout_seconds` of following (the job goes on; the message says how
    to follow it again). Time is the larger of the clock's and the sleeps', so an injected `sleep`
    advances it too.
    """
    seen: set[str] = set()
    started, slept = clock(), 0.0
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        status = str(job.status)
        progress.status(status if status in WAITING_STATUSES | TERMINAL_STATUSES else f"{status} (waiting)")
        events = client.fine_tuning.jobs.list_events(job_id, limit=100).data  # newest first
        for event in reversed(events):
            if event.id in seen:
                continue
            seen.add(event.id)
            data = getattr(event, "data", None) or {}
            if getattr(event, "type", None) == "metrics" and isinstance(data, dict) and "step" in data:
                progress.step(
                    int(data["step"]), data.get("total_steps"), data.get("train_loss"), at=float(event.created_at)
                )
            else:
                progress.event(str(event.message))
        if status in TERMINAL_STATUSES or status == PAUSED_STATUS:
            return job
        if max(clock() - started, slept) + poll_seconds > timeout_seconds:
            minutes = timeout_seconds / 60
            raise FollowTimeout(
                f"Job {job_id} is still {status} after {minutes:g} minutes of following; it goes on without us. "
                f"Follow it again with: {resume_hint(job_id, backend)} (--follow-timeout MINUTES to wait longer)."
            )
        sleep(poll_seconds)
        slept += poll_seconds


def job_config(job: Any, backend: str, run_suffix: str, run_seed: int) -> dict[str, Any]:
    """What the job was run with, read from the job itself (so a resumed job is recorded truly)."""
    epochs = None
    method = getattr(job, "method", None)
    supervised = getattr(method, "supervised", None) if method is not None else None
    if supervised is not None and getattr(supervised, "hyperparameters", None) is not None:
        epochs = supervised.hyperparameters.n_epochs
    if epochs is None and getattr(job, "hyperparameters", None) is not None:
        epochs = job.hyperparameters.n_epochs
    seed = getattr(job, "seed", None)
    return {
        "backend": backend,
        "base_model": job.model,
        "epochs": epochs,
        "suffix": run_suffix,
        "seed": seed if seed is not None else run_seed,
    }


def download_results(client: Any, job: Any) -> list[dict[str, Any]]:
    """The rows of the job's result CSV (OpenAI serves it base64-encoded; plain text is accepted)."""
    if not job.result_files:
        raise FlowError(f"job {job.id} succeeded but has no result file yet; resume it in a minute.")
    raw = client.files.content(job.result_files[0]).read()
    return parse_results(_decode_csv(raw).splitlines())


def _decode_csv(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    if text.lstrip().startswith("step"):
        return text
    try:
        return base64.b64decode(raw, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return text


def record_results(
    rows: list[dict[str, Any]],
    *,
    job_id: str,
    fine_tuned_model: str,
    out_dir: Path,
    wandb_project: str | None,
    wandb_entity: str | None,
    config: dict[str, Any],
    integration: bool = False,
) -> JobResult:
    """Write the CSV and PNG, print the losses, log the W&B run; return where everything went.

    `integration`: the job ran with OpenAI's W&B integration, which made a run named after the job.
    """
    run_dir = out_dir / job_id
    csv_path, png_path = run_dir / "results.csv", run_dir / "loss.png"
    write_results_csv(rows, csv_path)
    plot_losses(rows, png_path)
    losses = final_losses(rows)
    print(f"Training loss:             {_loss(losses.train_loss)}")
    print(f"Validation loss:           {_loss(losses.valid_loss)}")
    print(f"Full validation loss:      {_loss(losses.full_valid_loss)}")
    print(f"Result CSV: {csv_path}")
    print(f"Loss curves: {png_path}")
    wandb_dir = _log_wandb(
        rows,
        job_id=job_id,
        project=wandb_project,
        entity=wandb_entity,
        config={**config, "job_id": job_id, "fine_tuned_model": fine_tuned_model},
        integration=integration,
    )
    return JobResult(job_id, fine_tuned_model, losses, csv_path, png_path, wandb_dir)


def our_wandb_run(job_id: str, integration: bool) -> tuple[str, list[str]]:
    """(name and id, tags) of our own W&B run of a job.

    OpenAI's integration names its run after the job and tags it `openai/<job id>`, but the API never
    says which W&B run id it used, so we cannot safely resume that run. With the integration on, ours
    is therefore `<job id>-results` (a name that cannot be mistaken for OpenAI's) and carries the same
    `openai/<job id>` tag, which links the two in W&B; without it, ours is simply `<job id>`. The id is
    the name, so following the job again updates our run instead of adding one.
    """
    name = f"{job_id}-results" if integration else job_id
    return name, [f"openai/{job_id}"]


def _log_wandb(
    rows: list[dict[str, Any]],
    *,
    job_id: str,
    project: str | None,
    entity: str | None,
    config: dict[str, Any],
    integration: bool = False,
) -> Path | None:
    name, tags = our_wandb_run(job_id, integration)
    if integration:
        config = {**config, "openai_wandb_run": job_id}
    try:
        run_dir = log_to_wandb(
            rows,
            project=project or DEFAULT_WANDB_PROJECT,
            name=name,
            config=config,
            entity=entity,
            run_id=name,
            tags=tags,
        )
    except ImportError:
        print("W&B run skipped: wandb is not installed (scripts/sarah train … installs requirements/train.txt).")
        return None
    except Exception as error:  # W&B is a record of the run, not a reason to lose the new model id
        print(f"W&B run failed ({type(error).__name__}); the CSV and PNG are written.")
        return None
    print(f"W&B run: {run_dir}")
    return run_dir


def _loss(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "not reported"


def run_job(
    client: Any,
    run: Run,
    settings: TrainingSettings,
    uploads: tuple[Path, Path] | None,
    *,
    backend: str,
    integrations: list[dict[str, Any]] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> JobResult | int:
    """Upload `uploads` and create the job (None: follow `run.resume`), follow it and record its results.

    Returns what the succeeded job left (its model, losses and files), or the exit code when it stopped
    short (130: the user stopped following; 1: it paused, failed or was cancelled).
    """
    azure = backend == "azure"
    if uploads is None:
        job_id = str(run.resume)
        print(f"Following {'Azure job' if azure else 'job'} {job_id}")
    else:
        training_file, validation_file = (
            upload(client, path, poll_seconds=settings.poll_seconds, sleep=sleep) for path in uploads
        )
        print(f"Uploaded {run.train} as {training_file} and {run.valid} as {validation_file}")
        request = JobRequest(run.base_model, run.epochs, run.suffix, run.seed, integrations)
        job_id = str(create_job(client, request, training_file, validation_file).id)
        print(
            f"Created {'Azure job' if azure else 'job'} {job_id} on {run.base_model} "
            f"({run.epochs} epochs, suffix {run.suffix}, seed {run.seed})"
        )
    try:
        with Progress(f"{'Azure fine-tuning' if azure else 'Fine-tuning'} {job_id}") as progress:
            job = follow(
                client,
                job_id,
                progress,
                poll_seconds=settings.poll_seconds,
                sleep=sleep,
                timeout_seconds=run.follow_timeout_minutes * 60,
                backend=backend,
            )
    except KeyboardInterrupt:
        print(f"\nStopped following; the job goes on. Resume with: {resume_hint(job_id, backend)}")
        return 130
    if job.status == PAUSED_STATUS:
        print(paused_message(job_id, backend))
        return 1
    if job.status != "succeeded":
        reason = getattr(job.error, "message", None) if job.error else None
        print(f"{'Azure job' if azure else 'Job'} {job_id} {job.status}" + (f": {reason}" if reason else "."))
        return 1
    return record_results(
        download_results(client, job),
        job_id=job_id,
        fine_tuned_model=job.fine_tuned_model,
        out_dir=run.out_dir,
        wandb_project=settings.wandb_project,
        wandb_entity=settings.wandb_entity,
        integration=bool(getattr(job, "integrations", None)),
        config=job_config(job, backend, run.suffix, run.seed),
    )
