"""Log lines with their structured fields, never with customer text or secrets.

Code logs ids, counts and outcomes (`extra={"thread_key": ..., "chars": ...}`), never a message's text;
settings hold secrets as `SecretStr`. The text formatter appends the `extra` fields as key=value; the
JSON one (LOG_FORMAT=json, for log shippers) writes the same fields as one object per line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the `extra` fields, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in sorted(_fields(record).items()):
            entry.setdefault(key, value if isinstance(value, str | int | float | bool | None) else str(value))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str, fmt: str = "text", stream: IO[str] | None = None, file: Path | None = None
) -> Path | None:
    """Log to `stream` (stderr by default), or to `file` when given (the terminal chat: its screen is
    the conversation). Returns the file logged to; None when it cannot be written, and then only
    warnings and errors go to stderr."""
    written: Path | None = None
    handler: logging.Handler
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(file, encoding="utf-8")
            written = file.resolve()
        except OSError:
            handler = logging.StreamHandler(stream)
            level = max(level, "WARNING", key=logging.getLevelName)
    else:
        handler = logging.StreamHandler(stream)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("slack_bolt", "slack_sdk", "httpx", "openai", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    return written
