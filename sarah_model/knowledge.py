"""Load the ZenNest knowledge base into retrievable passages.

`training/data/knowledge_base.md` is the single source of truth for ZenNest facts: the training
conversations, the evaluation set and any retrieval must agree with it. Each `## Topic` section under
a `# Area` heading is one self-contained passage, so a passage can be cited by a stable id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The knowledge base stays with the training data it must agree with (shipped as `training` package data);
# this is a file path, not an import, so the model never imports the training pipeline.
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "training" / "data" / "knowledge_base.md"


@dataclass(frozen=True)
class Passage:
    """One `## Topic` section: the unit the eval set cites and retrieval returns."""

    id: str
    area: str
    title: str
    text: str


def slugify(heading: str) -> str:
    """Lower-case words joined by hyphens, so ids stay stable and readable (`zen-jargon/zenscene`)."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def load_knowledge_base(path: Path | None = None) -> list[Passage]:
    """Parse the knowledge base; ids are `<area slug>/<title slug>`, e.g. `thermostat/error-codes`.

    Raises ValueError on a section outside an area or on a duplicate id, because a silent clash would
    make the eval set point at the wrong passage.
    """
    text = (path or DEFAULT_PATH).read_text(encoding="utf-8")
    passages: list[Passage] = []
    area: str | None = None
    title: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if title is None:
            return
        if area is None:
            raise ValueError(f"section {title!r} is not under a '# Area' heading")
        passages.append(Passage(f"{slugify(area)}/{slugify(title)}", area, title, "\n".join(lines).strip()))

    for line in text.splitlines():
        if line.startswith("## "):
            flush()
            title, lines = line[3:].strip(), []
        elif line.startswith("# "):
            flush()
            area, title, lines = line[2:].strip(), None, []
        elif title is not None:
            lines.append(line)
    flush()

    ids = [p.id for p in passages]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate passage ids: {duplicates}")
    return passages
