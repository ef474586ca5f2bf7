"""`--backend azure`: the same files + jobs flow on Azure OpenAI, on Azure's own schedule.

Azure's data plane tunes the model but serving it needs a deployment, which is made in the Azure
portal or with `az` (the management plane, not this key). So the command ends by naming the
deployment the bot should use and the two settings that point the bot at it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import openai

from config.training import TrainingSettings
from training.finetune.jobs import (
    PAUSED_STATUS,
    FlowError,
    JobRequest,
    create_job,
    download_results,
    follow,
    job_config,
    paused_message,
    prepare_uploads,
    record_results,
    upload,
)
from training.finetune.openai_backend import CLIENT_TIMEOUT_SECONDS, Run
from training.progress import Progress


def make_azure_client(settings: TrainingSettings) -> openai.AzureOpenAI:
    missing = [
        name
        for name, value in (
            ("AZURE_OPENAI_ENDPOINT", settings.azure_openai_endpoint),
            ("AZURE_OPENAI_API_KEY", settings.azure_openai_api_key),
        )
        if not value
    ]
    if missing:
        raise FlowError(f"{' and '.join(missing)} must be set for --backend azure.")
    assert settings.azure_openai_endpoint is not None and settings.azure_openai_api_key is not None
    return openai.AzureOpenAI(
        azure_endpoint=settings.azure_openai_endpoint,
        api_version=settings.azure_openai_api_version,
        api_key=settings.azure_openai_api_key.get_secret_value(),
        timeout=CLIENT_TIMEOUT_SECONDS,
        max_retries=2,
    )


def deployment_name(suffix: str, job_id: str) -> str:
    """A deployment name Azure accepts (letters, digits, - and _), unique per job."""
    tail = re.sub(r"[^A-Za-z0-9]", "", job_id.removeprefix("ftjob-"))[-8:].lower()
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"sarah-{suffix}-{tail}")[:64]


def run_azure(run: Run, settings: TrainingSettings, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """The whole Azure flow; returns the exit code (API errors are the caller's to describe)."""
    with make_azure_client(settings) as client:
        return _flow(client, run, settings, sleep=sleep)


def _flow(client: openai.AzureOpenAI, run: Run, settings: TrainingSettings, *, sleep: Callable[[float], None]) -> int:
    if run.resume:
        job_id = run.resume
        print(f"Following Azure job {job_id}")
    else:
        train_upload, valid_upload = prepare_uploads(run.train, run.valid, run.out_dir)
        training_file, validation_file = (
            upload(client, path, poll_seconds=settings.poll_seconds, sleep=sleep)
            for path in (train_upload, valid_upload)
        )
        print(f"Uploaded {run.train} as {training_file} and {run.valid} as {validation_file}")
        # Our own W&B run records the losses; OpenAI's W&B integration is not sent to Azure.
        request = JobRequest(run.base_model, run.epochs, run.suffix, run.seed)
        job_id = str(create_job(client, request, training_file, validation_file).id)
        print(f"Created Azure job {job_id} on {run.base_model} ({run.epochs} epochs, suffix {run.suffix})")
    try:
        with Progress(f"Azure fine-tuning {job_id}") as progress:
            job = follow(
                client,
                job_id,
                progress,
                poll_seconds=settings.poll_seconds,
                sleep=sleep,
                timeout_seconds=run.follow_timeout_minutes * 60,
                backend="azure",
            )
    except KeyboardInterrupt:
        print(
            f"\nStopped following; the job goes on. Resume with: sarah train finetune --backend azure --resume {job_id}"
        )
        return 130
    if job.status == PAUSED_STATUS:
        print(paused_message(job_id, "azure"))
        return 1
    if job.status != "succeeded":
        reason = getattr(job.error, "message", None) if job.error else None
        print(f"Azure job {job_id} {job.status}" + (f": {reason}" if reason else "."))
        return 1
    rows = download_results(client, job)
    record_results(
        rows,
        job_id=job_id,
        fine_tuned_model=job.fine_tuned_model,
        out_dir=run.out_dir,
        wandb_project=settings.wandb_project,
        wandb_entity=settings.wandb_entity,
        integration=bool(getattr(job, "integrations", None)),
        config=job_config(job, "azure", run.suffix, run.seed),
    )
    deployment = deployment_name(run.suffix, job_id)
    endpoint = str(settings.azure_openai_endpoint).rstrip("/")
    print(f"New model: {job.fine_tuned_model}")
    print(f"Deployment name for the bot: {deployment}")
    print(
        f"1. Deploy {job.fine_tuned_model} as '{deployment}' (Azure AI Foundry → Deployments → Deploy a "
        f"fine-tuned model, or `az cognitiveservices account deployment create --deployment-name {deployment} "
        f"--model-name {job.fine_tuned_model} --model-format OpenAI --model-version 1 --sku-name standard`)."
    )
    print("2. Point the bot at it (in .env):")
    print(f"   OPENAI_BASE_URL={endpoint}/openai/v1/")
    print("   OPENAI_API_KEY=<your Azure OpenAI key>")
    print(f"   SARAH_MODEL={deployment}")
    return 0
