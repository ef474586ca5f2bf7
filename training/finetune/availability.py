"""May we start an OpenAI fine-tuning job on this base model today?

OpenAI's self-serve fine-tuning takes no new jobs from 2027-01-06, and a base model past its
`shutdown_date` cannot be tuned (and its tuned models stop answering). Refusing before uploading
anything saves the user a failed job and tells them what to do instead.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sarah_model.deadline import INSTEAD, OPENAI_FINETUNING_ENDS, deadline_refusal, deadline_warning
from sarah_model.retirement import WARN_DAYS, shutdown_date_of

__all__ = [
    "OPENAI_FINETUNING_ENDS",
    "base_model_verdict",
    "deadline_refusal",
    "deadline_warning",
    "missing_model_refusal",
]


def missing_model_refusal(base_model: str) -> str:
    return f"OpenAI does not offer {base_model} to this key (it may have been shut down): {INSTEAD}."


def base_model_verdict(
    model_info: dict[str, Any] | object, base_model: str, today: date
) -> tuple[str | None, str | None]:
    """(refusal, warning) for a base model as the models endpoint describes it."""
    shutdown = shutdown_date_of(model_info)
    if shutdown is None:
        return None, None
    days = (shutdown - today).days
    if days <= 0:
        return f"{base_model} was shut down on {shutdown.isoformat()}: it can no longer be tuned; {INSTEAD}.", None
    if days <= WARN_DAYS:
        return None, (
            f"{base_model} shuts down on {shutdown.isoformat()}, in {days} days: the model tuned now "
            "stops answering then, so re-tune on another backend (`--backend azure` or `--backend local`) "
            "before that date."
        )
    return None, None
