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
from training.finetune.jobs import CLIENT_TIMEOUT_SECONDS, FlowError, Run, prepare_uploads, run_job


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
    """The whole Azure flow; returns the exit code (API errors are the caller's to describe).

    Our own W&B run records the losses; OpenAI's W&B integration is not sent to Azure.
    """
    with make_azure_client(settings) as client:
        uploads = None if run.resume else prepare_uploads(run.train, run.valid, run.out_dir)
        outcome = run_job(client, run, settings, uploads, backend="azure", sleep=sleep)
    if isinstance(outcome, int):
        return outcome
    deployment = deployment_name(run.suffix, outcome.job_id)
    endpoint = str(settings.azure_openai_endpoint).rstrip("/")
    print(f"New model: {outcome.fine_tuned_model}")
    print(f"Deployment name for the bot: {deployment}")
    print(
        f"1. Deploy {outcome.fine_tuned_model} as '{deployment}' (Azure AI Foundry → Deployments → Deploy a "
        f"fine-tuned model, or `az cognitiveservices account deployment create --deployment-name {deployment} "
        f"--model-name {outcome.fine_tuned_model} --model-format OpenAI --model-version 1 --sku-name standard`)."
    )
    print("2. Point the bot at it (in .env):")
    print(f"   OPENAI_BASE_URL={endpoint}/openai/v1/")
    print("   OPENAI_API_KEY=<your Azure OpenAI key>")
    print(f"   SARAH_MODEL={deployment}")
    return 0
