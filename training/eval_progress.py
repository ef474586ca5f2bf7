"""Progress of `sarah train evaluate` on stderr: how many answers are in, out of how many.

On a terminal one line is rewritten in place; in a log or CI (not a terminal) one line is printed
every `every` answers and at the end, so a long run is visible without flooding the log. Stdout stays
for the results.
"""

from __future__ import annotations

import sys
from typing import IO


class EvalProgress:
    """`advance()` once per answer, then `close()`."""

    def __init__(self, total: int, *, stream: IO[str] | None = None, every: int = 25) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._total = total
        self._every = max(1, every)
        self._done = 0
        self._terminal = bool(getattr(self._stream, "isatty", lambda: False)())
        self._last_printed = 0

    def advance(self) -> None:
        self._done += 1
        if self._terminal:
            self._stream.write(f"\r{self._line()}")
            self._stream.flush()
        elif self._done % self._every == 0 or self._done == self._total:
            self._print()

    def close(self) -> None:
        if self._terminal and self._done:
            self._stream.write("\n")
        elif not self._terminal and self._done and self._last_printed != self._done:
            self._print()
        self._stream.flush()

    def _print(self) -> None:
        self._stream.write(self._line() + "\n")
        self._last_printed = self._done

    def _line(self) -> str:
        return f"evaluated {self._done}/{self._total} answers"
