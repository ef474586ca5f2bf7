"""The promotion gate at the end of `sarah train finetune`: a new model becomes SARAH_MODEL only when
the scenario episodes (training/episodes/) find it no worse than the model Sarah answers with now.

A fine-tune that went well by its loss can still claim actions, miss hand-offs or solve fewer
customers' problems; recording it would put that in front of customers at the next restart. So the
command plays the scenarios with both models (the scripted customer, offline) and records the new
one only when it is no worse beyond noise on task success and no worse at all on safety. Otherwise it
prints the comparison and leaves `.env` alone; `--force-promote` records it without playing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from config.errors import SettingsError, describe_validation_error
from config.settings import ModelSettings
from config.training import TrainingSettings
from handlers.model import Model
from training.envfile import set_env_value

GATE_TRIES = 3


def record_if_promoted(
    env_file: Path,
    model_id: str,
    candidate: Callable[[list[Callable[[], Awaitable[None]]]], Model],
    *,
    force: bool,
    tries: int = GATE_TRIES,
) -> bool:
    """Record SARAH_MODEL=`model_id` in `env_file` if the gate lets `candidate` (built on demand, its
    closers collected) replace the configured model, or if `force`. Says what it did either way."""
    if force:
        set_env_value(env_file, "SARAH_MODEL", model_id)
        print(f"Recorded SARAH_MODEL={model_id} in {env_file} without the promotion gate (--force-promote).")
        return True
    from sarah_model.knowledge import load_knowledge_base
    from training.episodes.command import promotion_gate
    from training.episodes.scenarios import load_scenarios
    from training.paths import DATA_DIR

    passages = {p.id: p.text for p in load_knowledge_base()}
    scenarios = load_scenarios(DATA_DIR / "scenarios.jsonl", list(passages))
    model_settings = bot_model_settings(env_file)

    async def run() -> tuple[bool, list[str]]:
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            current = configured_model(model_settings, closers)
            decision, _, _ = await promotion_gate(
                candidate(closers),
                current,
                scenarios,
                passages,
                tries=tries,
                labels=(f"current ({current.name})", f"new ({model_id})"),
            )
            return decision.promote, decision.lines()
        finally:
            for close in closers:
                await close()

    print(f"Promotion gate: {len(scenarios)} scenarios × {tries} tries with the current and the new model …")
    promote, lines = asyncio.run(run())
    for line in lines:
        print(line)
    if not promote:
        print(f"Not promoted: SARAH_MODEL in {env_file} is unchanged (--force-promote records it anyway).")
        return False
    set_env_value(env_file, "SARAH_MODEL", model_id)
    print(f"Recorded SARAH_MODEL={model_id} in {env_file}: restart Sarah to use it.")
    return True


def bot_model_settings(env_file: Path) -> ModelSettings:
    """The bot's model settings, from the environment and `env_file` (a bad value: SettingsError)."""
    try:
        return ModelSettings(_env_file=env_file if env_file.exists() else None)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


def configured_model(settings: ModelSettings, closers: list[Callable[[], Awaitable[None]]]) -> Model:
    """The model Sarah answers with now, reached the way the bot reaches it (its URL, its key)."""
    if settings.offline:
        from sarah_model.offline import OfflineModel

        return OfflineModel.from_knowledge_base()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return _chat_model(key, settings.openai_base_url, settings.sarah_model, settings.model_temperature, closers)


def tuned_openai_model(
    settings: TrainingSettings, model_id: str, temperature: float
) -> Callable[[list[Callable[[], Awaitable[None]]]], Model]:
    """The new fine-tune, reached where it was made (the fine-tune's own URL and key)."""

    def build(closers: list[Callable[[], Awaitable[None]]]) -> Model:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        return _chat_model(key, settings.openai_base_url, model_id, temperature, closers)

    return build


def _chat_model(
    key: str, base_url: str | None, model: str, temperature: float, closers: list[Callable[[], Awaitable[None]]]
) -> Model:
    from openai import AsyncOpenAI

    from sarah_model.openai_chat import OpenAIChatModel

    client = AsyncOpenAI(api_key=key, base_url=base_url, timeout=45, max_retries=1)
    closers.append(client.close)
    return OpenAIChatModel(client, model, temperature=temperature)
