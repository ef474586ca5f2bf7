"""Warn before Sarah's model stops answering.

A fine-tuned model stops when its base model is shut down (OpenAI's gpt-4o and gpt-4.1 snapshots:
2027-01-14), and `GET /v1/models/{id}` may carry a `shutdown_date`. At start and in `sarah doctor`
the bot looks up its model and, for an `ft:` model, the base too; within 60 days it names the date
and the way out (re-tune on another backend), past it it says so plainly. OpenAI's published dates
are known here too, so the warning does not depend on the endpoint: once a model is gone the API
may no longer describe it at all. A server without the field or without a models endpoint (vLLM, a
proxy) gives no other notice: that is not a problem.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from typing import Any, Literal

import openai
from openai import AsyncOpenAI

WARN_DAYS = 60
WAY_OUT = (
    "re-tune Sarah on another backend (`sarah train finetune --backend azure` or `--backend local`) "
    "and point SARAH_MODEL (and OPENAI_BASE_URL) at the new model"
)


GONE: Literal["gone"] = "gone"  # retired before Sarah could check: no date to count down to
# OpenAI's published retirements of the bases it fine-tunes (a fine-tune stops with its base).
PUBLISHED_SHUTDOWNS: dict[str, date | Literal["gone"]] = {
    "gpt-4o": date(2027, 1, 14),
    "gpt-4o-mini": date(2027, 1, 14),
    "gpt-4.1": date(2027, 1, 14),
    "gpt-4.1-mini": date(2027, 1, 14),
    "gpt-4.1-nano": GONE,
    "gpt-3.5-turbo": GONE,
}
# A snapshot is the family's name and a date (`-2024-08-06`) or an old-style number (`-0125`).
SNAPSHOT = re.compile(r"(?P<family>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{4})")


def published_shutdown(model: str) -> date | Literal["gone"] | None:
    """OpenAI's published shutdown of a snapshot (`gpt-4o-mini-2024-07-18`), GONE, or None if none is known."""
    match = SNAPSHOT.fullmatch(model)
    return PUBLISHED_SHUTDOWNS.get(match["family"]) if match else None


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


def _published_notice(name: str, today: date, *, used_by: str | None) -> str | None:
    published = published_shutdown(name)
    if published is None:
        return None
    if published == GONE:
        subject = f"{name}, the base of Sarah's model {used_by}," if used_by else f"Sarah's model {name}"
        return f"{subject} has been retired by OpenAI and no longer answers: {WAY_OUT}."
    return retirement_notice({"id": name, "shutdown_date": published.isoformat()}, today, used_by=used_by)


async def check_model_retirement(client: AsyncOpenAI, model: str, today: date) -> list[str]:
    """Notices for `model` and, for an `ft:` model, its base.

    The endpoint's `shutdown_date` wins; without one (no field, or no models endpoint, no such model,
    no access) OpenAI's published date for the snapshot is used. Raises `openai.APIConnectionError`
    when the model's server cannot be reached at all (Sarah warns at start, the doctor names
    OPENAI_BASE_URL): `published_notices` then still says what the dates alone say."""
    notices: list[str] = []
    for name, used_by in _lookups(model):
        info: object = None
        with contextlib.suppress(openai.APIStatusError):
            info = await client.models.retrieve(name)
        if info is not None and shutdown_date_of(info) is not None:
            notice = retirement_notice(info, today, used_by=used_by)
        else:
            notice = _published_notice(name, today, used_by=used_by)
        if notice:
            notices.append(notice)
    return notices


def published_notices(model: str, today: date) -> list[str]:
    """What OpenAI's published dates alone say of `model` (and its base), with no lookup."""
    return [n for name, used_by in _lookups(model) if (n := _published_notice(name, today, used_by=used_by))]


def _lookups(model: str) -> list[tuple[str, str | None]]:
    """`model`, and for an `ft:` model its base (used by the fine-tune)."""
    base = base_of(model)
    return [(model, None)] + ([(base, model)] if base else [])
