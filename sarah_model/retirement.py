"""Warn before Sarah's model stops answering.

A fine-tuned model stops when its base model is shut down (OpenAI's gpt-4o and gpt-4.1 snapshots:
2027-01-14), and `GET /v1/models/{id}` may carry a `shutdown_date`. At start and in `sarah doctor`
the bot looks up its model and, for an `ft:` model, the base too; within 60 days it names the date
and the way out (re-tune on another backend), past it it says so plainly. A server without the
field or without a models endpoint (vLLM, a proxy) gives no notice: that is not a problem.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import openai
from openai import AsyncOpenAI

WARN_DAYS = 60
WAY_OUT = (
    "re-tune Sarah on another backend (`sarah train finetune --backend azure` or `--backend local`) "
    "and point SARAH_MODEL (and OPENAI_BASE_URL) at the new model"
)


def shutdown_date_of(model_info: dict[str, Any] | object) -> date | None:
    """The `shutdown_date` of a models-endpoint answer (unix timestamp or ISO date), or None."""
    if isinstance(model_info, dict):
        raw = model_info.get("shutdown_date")
    else:
        raw = getattr(model_info, "shutdown_date", None)
        if raw is None:
            raw = (getattr(model_info, "model_extra", None) or {}).get("shutdown_date")
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float) or (isinstance(raw, str) and raw.strip().isdigit()):
        return datetime.fromtimestamp(float(raw), tz=UTC).date()
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip()).date()
        except ValueError:
            return None
    return None


def _model_id(model_info: dict[str, Any] | object) -> str:
    value = model_info.get("id") if isinstance(model_info, dict) else getattr(model_info, "id", None)
    return str(value) if value else "the model"


def retirement_notice(model_info: dict[str, Any] | object, today: date, *, used_by: str | None = None) -> str | None:
    """A warning when the model shuts down within 60 days or already has; None otherwise.

    `used_by` names Sarah's fine-tuned model when `model_info` describes its base.
    """
    shutdown = shutdown_date_of(model_info)
    if shutdown is None:
        return None
    name = _model_id(model_info)
    subject = f"{name}, the base of Sarah's model {used_by}," if used_by else f"Sarah's model {name}"
    days = (shutdown - today).days
    if days < 0:
        return f"{subject} was shut down on {shutdown.isoformat()} and no longer answers: {WAY_OUT}."
    if days == 0:
        return f"{subject} shuts down today ({shutdown.isoformat()}): {WAY_OUT}."
    if days <= WARN_DAYS:
        return f"{subject} shuts down on {shutdown.isoformat()}, in {days} days: before then, {WAY_OUT}."
    return None


def base_of(model: str) -> str | None:
    """`ft:gpt-4o-mini-2024-07-18:org::id` → `gpt-4o-mini-2024-07-18`; None for a model that is not `ft:`."""
    if model.startswith("ft:") and model.count(":") >= 2:
        return model.split(":", 2)[1] or None
    return None


async def check_model_retirement(client: AsyncOpenAI, model: str, today: date) -> list[str]:
    """Notices for `model` and, for an `ft:` model, its base; lookups that fail give no notice.

    Raises `openai.APIConnectionError` when the model's server cannot be reached at all."""
    lookups: list[tuple[str, str | None]] = [(model, None)]
    base = base_of(model)
    if base:
        lookups.append((base, model))
    notices: list[str] = []
    for name, used_by in lookups:
        try:
            info = await client.models.retrieve(name)
        except openai.APIStatusError:
            continue  # no models endpoint, no such model, or no access: nothing to say
        notice = retirement_notice(info, today, used_by=used_by)
        if notice:
            notices.append(notice)
    return notices
