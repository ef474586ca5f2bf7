"""`--backend openai`: tune on OpenAI, then point the bot at the new model through `.env`.

Before uploading anything it checks that OpenAI still takes jobs (not after 2027-01-06) and that the
base model is still offered and not past its `shutdown_date`, and refuses with what to do instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openai

from config.training import TrainingSettings
from sarah_model.retirement import base_of
from training.finetune.availability import (
    base_model_verdict,
    deadline_refusal,
    deadline_warning,
    missing_model_refusal,
)
from training.finetune.jobs import CLIENT_TIMEOUT_SECONDS, FlowError, Run, prepare_uploads, run_job


def make_client(settings: TrainingSettings) -> openai.OpenAI:
    if settings.openai_api_key is None:
        raise FlowError("OPENAI_API_KEY is not set: put the key in the environment or .env.")
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=CLIENT_TIMEOUT_SECONDS,
        max_retries=2,
    )


def wandb_integration(settings: TrainingSettings) -> list[dict[str, Any]] | None:
    """OpenAI's own W&B integration, when a W&B project is configured."""
    if not settings.wandb_project:
        return None
    wandb: dict[str, Any] = {"project": settings.wandb_project}
    if settings.wandb_entity:
        wandb["entity"] = settings.wandb_entity
    return [{"type": "wandb", "wandb": wandb}]


def check_base_model(client: openai.OpenAI, base_model: str, today: date) -> list[str]:
    """Raise FlowError when OpenAI cannot tune `base_model` today; return warnings otherwise."""
    warnings: list[str] = []
    for name in filter(None, (base_model, base_of(base_model))):
        try:
            info = client.models.retrieve(name)
        except openai.NotFoundError:
            raise FlowError(missing_model_refusal(name)) from None
        refusal, warning = base_model_verdict(info, name, today)
        if refusal:
            raise FlowError(refusal)
        if warning:
            warnings.append(warning)
    return warnings


def run_openai(
    run: Run,
    settings: TrainingSettings,
    *,
    today: date,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The whole flow; returns the exit code (API errors are the caller's to describe).

    What can be refused without the network is refused first: the closing date, then the files.
    """
    uploads = None
    warning = deadline_warning(today)
    if warning:
        print(f"warning: {warning}")
    if not run.resume:
        refusal = deadline_refusal(today)
        if refusal:
            raise FlowError(refusal)
        uploads = prepare_uploads(run.train, run.valid, run.out_dir)
    with make_client(settings) as client:
        return _flow(client, run, settings, uploads, today=today, sleep=sleep)


def _flow(
    client: openai.OpenAI,
    run: Run,
    settings: TrainingSettings,
    uploads: tuple[Path, Path] | None,
    *,
    today: date,
    sleep: Callable[[float], None],
) -> int:
    if uploads is not None:
        for warning in check_base_model(client, run.base_model, today):
            print(f"warning: {warning}")
    outcome = run_job(
        client, run, settings, uploads, backend="openai", integrations=wandb_integration(settings), sleep=sleep
    )
    if isinstance(outcome, int):
        return outcome
    print(f"New model: {outcome.fine_tuned_model}")
    from training.finetune.promotion import bot_model_settings, record_if_promoted, tuned_openai_model

    temperature = bot_model_settings(run.env_file).model_temperature
    candidate = tuned_openai_model(settings, outcome.fine_tuned_model, temperature)
    promoted = record_if_promoted(
        run.env_file, outcome.fine_tuned_model, candidate, force=run.force_promote, tries=run.gate_tries
    )
    return 0 if promoted else 1
