"""The settings reference, `docs/settings.md`, printed from the settings classes themselves.

One source: each setting's name, default, allowed values and description come from its pydantic
`Field`, so the reference cannot drift from what Sarah reads. After adding or changing a setting, run

    python -m config.reference > docs/settings.md

and a test fails while the file differs from what this prints. Only class defaults are shown, never
the environment or `.env`, so the output is the same on every machine and no secret can reach it.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from config.settings import SETTINGS_GROUPS
from config.training import TrainingSettings
from config.training_local import LocalTrainingSettings

COMMAND = "python -m config.reference > docs/settings.md"

TITLES = {
    "slack": "Slack",
    "model": "Model",
    "redis": "Redis",
    "retention": "Retention",
    "worker": "Worker",
    "handoff": "Hand-off",
    "texts": "Texts",
    "log": "Logs and traces",
    "limits": "Limits per person",
    "training": "Training (`sarah train`)",
    "training_local": "Local fine-tuning (`sarah train finetune --backend local`)",
}
"""Each group's heading; a group without one is headed by its name."""


def reference_groups() -> dict[str, type[BaseSettings]]:
    """The bot's groups in `SETTINGS_GROUPS` order, then those only `sarah train` reads."""
    return {**SETTINGS_GROUPS, "training": TrainingSettings, "training_local": LocalTrainingSettings}


def render() -> str:
    """The whole of `docs/settings.md`."""
    groups = reference_groups()
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from the settings classes in config/: do not edit by hand.",
        f"     After changing a setting, run: {COMMAND} -->",
        "",
        "Every setting is an environment variable or a line in `.env` ([`.env.example`](../.env.example) lists",
        "them all). A wrong value stops Sarah with a line that names the variable and what is wrong with it;",
        "secrets are never printed or logged. Durations, sizes and counts must lie in the range shown.",
        "",
        *(f"- [{_title(name)}](#{_anchor(_title(name))})" for name in groups),
    ]
    for name, group in groups.items():
        lines += ["", f"## {_title(name)}", ""]
        intro = _intro(group)
        if intro:
            lines += [intro, ""]
        lines += ["| Setting | Default | Allowed | What it does |", "|---|---|---|---|"]
        for field_name, field in group.model_fields.items():
            cells = [f"`{field_name.upper()}`", _default(field), _allowed(field), field.description or ""]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def missing_descriptions() -> list[str]:
    """Settings that would appear in the reference without saying what they do."""
    return [
        f"{field_name.upper()} ({group.__name__})"
        for group in reference_groups().values()
        for field_name, field in group.model_fields.items()
        if not (field.description or "").strip()
    ]


def _title(name: str) -> str:
    return TITLES.get(name, name)


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, spaces to hyphens, punctuation but hyphens dropped."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _intro(group: type[BaseSettings]) -> str:
    doc = (group.__doc__ or "").strip()
    if not doc or doc.startswith(("Usage docs:", "Base class")):  # pydantic's own docstring, not ours
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f"`{value.as_posix()}`"
    return f"`{value}`" if value != "" else '`""`'


def _allowed(field: FieldInfo) -> str:
    kind = _unwrap_optional(field.annotation)
    if get_origin(kind) is Literal:
        choices = [str(c) for c in get_args(kind)]
        return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    if kind is bool:
        return "true or false"
    if kind is SecretStr:
        return "secret"
    bounds = {type(m).__name__: getattr(m, _BOUND_ATTRS[type(m).__name__]) for m in field.metadata if _is_bound(m)}
    parts: list[str] = []
    if "Ge" in bounds and "Le" in bounds:
        parts.append(f"from {_number(bounds['Ge'])} to {_number(bounds['Le'])}")
    else:
        if "Ge" in bounds or "Gt" in bounds:
            parts.append(f"≥ {_number(bounds['Ge'])}" if "Ge" in bounds else f"> {_number(bounds['Gt'])}")
        if "Le" in bounds or "Lt" in bounds:
            parts.append(f"≤ {_number(bounds['Le'])}" if "Le" in bounds else f"< {_number(bounds['Lt'])}")
    if "MaxLen" in bounds:
        parts.append(f"up to {bounds['MaxLen']} characters")
    if kind in (int, float):
        prefix = "a whole number" if kind is int else "a number"
        return prefix + (" " + ", ".join(parts) if parts else "")
    if kind is Path:
        return "a folder"
    return ", ".join(parts) if parts else "text"


_BOUND_ATTRS = {"Ge": "ge", "Gt": "gt", "Le": "le", "Lt": "lt", "MaxLen": "max_length"}


def _is_bound(metadata: Any) -> bool:
    return isinstance(
        metadata,
        annotated_types.Ge | annotated_types.Gt | annotated_types.Le | annotated_types.Lt | annotated_types.MaxLen,
    )


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _cell(text: str) -> str:
    """One table cell: a pipe would end the cell and a line break the row."""
    return " ".join(text.split("\n")).replace("|", "\\|")


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
