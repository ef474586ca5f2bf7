"""A live progress display shared by every fine-tuning backend.

A fine-tune runs for minutes to hours, so the user wants to see the job's status, its events and,
when steps are known, the loss and the time left. On a terminal this is a rich live panel; in a log
file or CI (not a TTY) it degrades to one plain line per change, so nothing is lost in the output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any


class Progress:
    """`status(text)`, `event(text)`, `step(step, total, loss)`, then `close()`.

    Also a context manager. `clock` is injectable so the time-left estimate can be tested.
    """

    def __init__(
        self,
        title: str = "Fine-tuning",
        *,
        stream: IO[str] | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_events: int = 8,
    ) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._clock = clock
        self._title = title
        self._status = ""
        self._events: list[str] = []
        self._max_events = max_events
        self._step: tuple[int, int | None, float | None] | None = None
        self._first_step: tuple[int, float] | None = None
        self._last_plain_step = ""
        self._last_step_at: float | None = None
        use_live = live if live is not None else bool(getattr(self._stream, "isatty", lambda: False)())
        self._live: Any = self._start_live() if use_live else None

    # -- public surface ---------------------------------------------------------------------------

    def status(self, text: str) -> None:
        """The job's current state (e.g. `queued`, `running`); printed once per change."""
        if text == self._status:
            return
        self._status = text
        self._render(f"status: {text}")

    def event(self, text: str) -> None:
        """One event from the job (a message OpenAI or the trainer emitted)."""
        self._events = [*self._events, text][-self._max_events :]
        self._render(f"event: {text}")

    def step(self, step: int, total: int | None, loss: float | None, *, at: float | None = None) -> None:
        """Training step `step` of `total` with its loss; shows the estimated time left.

        `at` is when the step happened (e.g. an API event's timestamp, when events arrive in batches);
        give it for every step or for none.
        """
        now = at if at is not None else self._clock()
        if self._first_step is None or step < self._first_step[0]:
            self._first_step = (step, now)
        self._step = (step, total, loss)
        self._last_step_at = now
        line = self._step_line(now)
        if self._live is None and line == self._last_plain_step:
            return
        self._last_plain_step = line
        self._render(line)

    def close(self) -> None:
        """Stop the live display (idempotent)."""
        if self._live is not None:
            self._live.update(self._panel())
            self._live.stop()
            self._live = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds left at the pace seen so far, or None before two steps or without a total."""
        if self._step is None or self._first_step is None:
            return None
        step, total, _ = self._step
        first_step, started = self._first_step
        done = step - first_step
        if total is None or done <= 0:
            return None
        if now is None:
            now = self._last_step_at if self._last_step_at is not None else self._clock()
        elapsed = now - started
        return max(0.0, elapsed / done * (total - step))

    def _step_line(self, now: float) -> str:
        assert self._step is not None
        step, total, loss = self._step
        parts = [f"step {step}" + (f"/{total}" if total else "")]
        if loss is not None:
            parts.append(f"loss {loss:.4f}")
        left = self.time_left(now)
        if left is not None:
            parts.append(f"about {_duration(left)} left")
        return " · ".join(parts)

    def _render(self, line: str) -> None:
        if self._live is not None:
            self._live.update(self._panel())
        else:
            print(line, file=self._stream, flush=True)

    def _start_live(self) -> Any:
        from rich.console import Console
        from rich.live import Live

        live = Live(self._panel(), console=Console(file=self._stream), refresh_per_second=4, transient=False)
        live.start()
        return live

    def _panel(self) -> Any:
        from rich.panel import Panel
        from rich.text import Text

        body = Text()
        body.append("status: ", style="bold")
        body.append(self._status or "starting")
        if self._step is not None:
            body.append("\n" + self._step_line(self._last_step_at or self._clock()), style="cyan")
        for event in self._events:
            body.append(f"\n• {event}", style="dim")
        return Panel(body, title=self._title)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
