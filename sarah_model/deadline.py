"""OpenAI's self-serve fine-tuning closes on 2027-01-06: say so early, not only on the day.

A refusal on the day helps nobody who planned to re-tune that week, so from 60 days before, every
`--backend openai` run and `sarah doctor` (for a bot on an OpenAI `ft:` model) print a warning with
the date, the days left and the other backends. The date is passed in, so tests pin the clock.
Kept free of heavy imports: the bot's doctor imports it.
"""

from __future__ import annotations

from datetime import date

OPENAI_FINETUNING_ENDS = date(2027, 1, 6)
WARN_DAYS = 60
INSTEAD = "tune Sarah with `sarah train finetune --backend azure` or `--backend local` instead"


def deadline_refusal(today: date) -> str | None:
    """The refusal once OpenAI's fine-tuning has closed for everyone (on the day itself too)."""
    if today >= OPENAI_FINETUNING_ENDS:
        return f"OpenAI stopped taking new fine-tuning jobs on {OPENAI_FINETUNING_ENDS.isoformat()}: {INSTEAD}."
    return None


def deadline_warning(today: date) -> str | None:
    """The warning in the 60 days before the closing date (None before them, and from the day on)."""
    days = (OPENAI_FINETUNING_ENDS - today).days
    if not 0 < days <= WARN_DAYS:
        return None
    when = "tomorrow" if days == 1 else f"in {days} days"
    return (
        f"OpenAI takes no new fine-tuning jobs from {OPENAI_FINETUNING_ENDS.isoformat()} ({when}): "
        "a job created later is refused, so plan the next re-tune on `--backend azure` or `--backend local`."
    )


def closing_notice(today: date) -> str | None:
    """What `sarah doctor` says of the closing for an OpenAI fine-tune: the warning before, the fact after."""
    return deadline_warning(today) or deadline_refusal(today)
