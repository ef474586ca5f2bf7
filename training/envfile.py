"""Record a value in the `.env` file the bot reads, touching no other line.

`sarah train finetune` ends by setting `SARAH_MODEL=<new model id>` there, so the next start of the
bot uses the new model. Comments, order and every other variable are kept; the file is replaced
atomically so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def set_env_value(path: Path, name: str, value: str) -> None:
    """Create or rewrite the one `NAME=value` line of `path` (an `export NAME=` line counts too)."""
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
        raise ValueError(f"not an environment variable name: {name!r}")
    pattern = re.compile(rf"^\s*(?:export\s+)?{name}\s*=")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    new_line = f"{name}={_quote(value)}"
    kept = [line for line in lines if not pattern.match(line)]
    if len(kept) == len(lines):
        kept.append(new_line)
    else:
        first = next(i for i, line in enumerate(lines) if pattern.match(line))
        kept = [line for i, line in enumerate(lines) if i < first and not pattern.match(line)]
        kept.append(new_line)
        kept.extend(line for i, line in enumerate(lines) if i > first and not pattern.match(line))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.", text=True)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(kept) + "\n")
    os.replace(temporary, path)


def _quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_.:/@+-]*", value) else '"' + value.replace('"', '\\"') + '"'
