"""The model card of a local run: enough to know later what made this adapter, and to redo it.

Written twice from one dict: `model_card.json` for tools, `model_card.md` (Hugging Face card front
matter + a short text) for people and the Hub.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers")


def library_versions() -> dict[str, str]:
    """Installed versions of the training stack (and Python), for reproducing a run."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_model_card(card: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write `model_card.json` and `model_card.md`; return both paths."""
    json_path, md_path = folder / "model_card.json", folder / "model_card.md"
    json_path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(card), encoding="utf-8")
    return json_path, md_path


def render_markdown(card: dict[str, Any]) -> str:
    losses = card.get("losses", {})
    served = card.get("served_name", "sarah")
    lines = [
        "---",
        f"base_model: {card['base_model']}",
        "library_name: peft",
        "pipeline_tag: text-generation",
        "tags: [lora, sft, trl, sarah, zennest]",
        "---",
        "",
        f"# {card['name']}",
        "",
        "Sarah, ZenNest's Slack support assistant: a LoRA adapter tuned with TRL + PEFT on Sarah's chat data "
        "(loss on assistant turns only, `weight: 0` turns excluded, the `handoff_to_human` tool call in the "
        "base model's own tool-call format).",
        "",
        f"- Created: {card['created_at']}",
        f"- Base model: `{card['base_model']}`",
        f"- Device: {card['device']}; {card['steps']} steps in {card['duration_seconds']:.0f} s",
        f"- Loss masking: {card['loss_masking']}",
        "",
        "## Data",
        "",
        "| file | examples | sha256 |",
        "|---|---|---|",
        *[f"| {d['path']} | {d['examples']} | `{d['sha256']}` |" for d in card["data"].values()],
        "",
        "## Hyperparameters",
        "",
        *[f"- {key}: {value}" for key, value in card["hyperparameters"].items()],
        "",
        "## Losses",
        "",
        *[f"- {key}: {_number(value)}" for key, value in losses.items()],
        "",
        "## Libraries",
        "",
        *[f"- {key} {value}" for key, value in card["library_versions"].items()],
        "",
        "## Use",
        "",
        f"Serve the base model with this adapter on vLLM (`--enable-lora --lora-modules {served}=<adapter dir> "
        f"--enable-auto-tool-choice --tool-call-parser hermes`) and set `SARAH_MODEL={served}`, or compare it with "
        "`sarah train evaluate --a offline --b local:<this folder>`.",
        "",
    ]
    return "\n".join(lines)


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "—" if value is None else str(value)
