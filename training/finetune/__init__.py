"""`sarah train finetune`: one command, three backends (openai, azure, local).

This module checks the data as `sarah train validate` does (a new run only: a resumed job has its
files), picks the backend and turns failures into one sentence and an exit code: 0 done, 1 the
data, the job or the API failed, 2 the command cannot run as configured.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import openai

from config.training import TrainingSettings, load_training_settings
from training.finetune.api_errors import describe_api_error
from training.finetune.data_check import data_errors, describe_errors
from training.finetune.flags import flag_refusal
from training.finetune.jobs import DEFAULT_WANDB_PROJECT, FlowError, FollowTimeout, Run
from training.paths import RUNS_DIR, TRAIN_FILE, VALID_FILE

LOCAL_EXTRA_MESSAGE = (
    "The local backend needs torch, transformers, peft and trl: run `scripts/sarah train finetune --backend local`, "
    "which installs them (requirements/test.txt and requirements/torch.txt)."
)


def run_finetune(
    args: argparse.Namespace, *, today: date | None = None, sleep: Callable[[float], None] = time.sleep
) -> int:
    settings = load_training_settings(args.env_file if args.env_file.exists() else None)
    backend = args.backend or settings.finetune_backend
    refusal = flag_refusal(args, backend)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2

    timeout = getattr(args, "follow_timeout", None)
    run = Run(
        train=args.train or TRAIN_FILE,
        valid=args.valid or VALID_FILE,
        out_dir=args.out_dir or RUNS_DIR,
        env_file=args.env_file,
        base_model=args.model or settings.finetune_base_model,
        epochs=args.epochs if args.epochs is not None else settings.finetune_epochs,
        suffix=args.suffix or settings.finetune_suffix,
        seed=settings.finetune_seed,
        resume=args.resume,
        follow_timeout_minutes=timeout if timeout is not None else settings.finetune_follow_timeout_minutes,
        force_promote=getattr(args, "force_promote", False),
        gate_tries=getattr(args, "gate_tries", 3),
    )
    if not run.resume:
        errors = data_errors(run.train, run.valid, model=settings.finetune_base_model)
        if errors:
            print(describe_errors(errors, run.train, run.valid), file=sys.stderr)
            return 1
    if backend == "local":
        return _run_local(run, settings, args)
    key_variable, url_variable = (
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT")
        if backend == "azure"
        else ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    )
    try:
        if backend == "azure":
            from training.finetune.azure_backend import run_azure

            return run_azure(run, settings, sleep=sleep)
        from training.finetune.openai_backend import run_openai

        return run_openai(run, settings, today=today or datetime.now(UTC).date(), sleep=sleep)
    except FlowError as error:
        print(error, file=sys.stderr)
        return 2
    except FollowTimeout as error:
        print(error, file=sys.stderr)
        return 1
    except openai.OpenAIError as error:
        print(describe_api_error(error, key_variable=key_variable, url_variable=url_variable), file=sys.stderr)
        return 1


def _run_local(run: Run, settings: TrainingSettings, args: argparse.Namespace) -> int:
    """The local LoRA run with every flag applied; records the served name as SARAH_MODEL like the others."""
    try:
        from training.local import LocalFinetuneError, run_local_finetune
    except ImportError:
        print(LOCAL_EXTRA_MESSAGE, file=sys.stderr)
        return 2
    from config.training_local import load_local_training_settings
    from training.progress import Progress

    overrides: dict[str, object] = {}
    if args.model:
        overrides["local_base_model"] = args.model
    if args.epochs is not None:
        overrides["local_epochs"] = args.epochs
    if args.out_dir is not None:
        overrides["local_output_dir"] = args.out_dir
    # the same env file as `settings`; a bad LOCAL_* value raises SettingsError: exit 2
    local_settings = load_local_training_settings(run.env_file if run.env_file.exists() else None, **overrides)
    try:
        with Progress("Local LoRA fine-tune") as progress:
            result = run_local_finetune(
                run.train,
                run.valid,
                local_settings,
                progress,
                merge=args.merge,
                wandb_project=settings.wandb_project or DEFAULT_WANDB_PROJECT,
                wandb_entity=settings.wandb_entity,
                served_name=run.suffix,
            )
    except LocalFinetuneError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Local fine-tune done: {result}")
    from training.finetune.promotion import record_if_promoted
    from training.model_specs import build_model, parse_spec

    adapter = parse_spec(f"local:{result.output_dir}")
    if not record_if_promoted(
        run.env_file,
        run.suffix,
        lambda closers: build_model(adapter, settings, closers),
        force=run.force_promote,
        tries=run.gate_tries,
    ):
        return 1
    root = result.output_dir.parent
    print(
        f"Serve it with vLLM as `--lora-modules {run.suffix}={result.adapter_dir}` (docker compose: "
        f"ln -sfn {result.output_dir.name} {root / 'current'}), and set OPENAI_BASE_URL to the server."
    )
    return 0
