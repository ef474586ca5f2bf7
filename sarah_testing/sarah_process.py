"""Sarah as a real process, and a supervisor that restarts her: the fault table's deployments.

Sarah runs as `python -m bot.cli.main` on 127.0.0.1 with only the settings given here: none of this
machine's (the caller names Sarah's settings, since this package imports nothing of hers), no `.env`
(her working directory is a temporary one), and PYTHONPATH set to this checkout, so a subprocess
imports the code under test, not whatever `pip install -e` points at. `Supervisor` plays
systemd/Kubernetes: it starts again a process that exited non-zero and counts those restarts. The
Redis servers she talks to are in `sarah_testing/redis_process.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class SarahProcess:
    """`python -m bot.cli.main` with exactly `env` as her settings; `port` is her SARAH_PORT (/slack/events for
    an ingress, /healthz for every role). `setting_names`: all of Sarah's settings (any case), the
    variables of this machine's environment she must not inherit."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    stopping: bool = False  # the harness stopped it on purpose: the supervisor leaves it alone
    starts: int = 0
    setting_names: frozenset[str] = field(kw_only=True)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def role(self) -> str:
        return self.env.get("SARAH_ROLE", "all")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        dropped = {name.upper() for name in self.setting_names}
        env = {k: v for k, v in os.environ.items() if k.upper() not in dropped}
        env.update(self.env)
        env["PYTHONPATH"] = str(ROOT)
        if self.port is not None:  # /healthz on this port in every role (a worker's default is the next one)
            env["SARAH_PORT"] = env["SARAH_HEALTH_PORT"] = str(self.port)
        log = self.log_path.open("ab")
        log.write(f"--- start {self.starts + 1} ---\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        self.stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    async def wait_exit(self, within: float = 30.0) -> int | None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        return None

    async def stop(self) -> None:
        self.stopping = True
        self.signal(signal.SIGTERM)
        if await self.wait_exit(20) is None:
            self.signal(signal.SIGKILL)
            await self.wait_exit(5)

    async def ready(self, session: aiohttp.ClientSession, within: float = 60.0) -> None:
        """Until /healthz answers 200 (when it has a port) and the log says the worker reads the stream."""
        deadline = time.monotonic() + within
        start_marker = f"--- start {self.starts} ---"
        while time.monotonic() < deadline:
            if self.exit_code() is not None:
                raise RuntimeError(f"{self.name} exited with {self.exit_code()}:\n{self.log_tail()}")
            log = self.log_path.read_text(errors="replace").rpartition(start_marker)[2]
            worker_ok = self.role == "ingress" or " reading " in log
            ingress_ok = await self.healthy(session)
            if worker_ok and ingress_ok:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready after {within} s:\n{self.log_tail()}")

    async def healthy(self, session: aiohttp.ClientSession) -> bool:
        """Alive, and /healthz answers 200 (when it serves one)."""
        if self.exit_code() is not None:
            return False
        if self.port is None:
            return True
        try:
            async with session.get(
                f"http://127.0.0.1:{self.port}/healthz", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Supervisor:
    """Restarts a Sarah process that exited non-zero (as systemd's Restart=on-failure would)."""

    processes: list[SarahProcess]
    restarts: dict[str, int] = field(default_factory=dict)
    exits: list[tuple[str, int]] = field(default_factory=list)  # every exit seen: (name, code)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            for process in self.processes:
                code = process.exit_code()
                if code is None or process.stopping or process.process is None:
                    continue
                self.exits.append((process.name, code))
                if code == 0:
                    process.process = None  # a clean stop: nobody asked for a restart
                    continue
                self.restarts[process.name] = self.restarts.get(process.name, 0) + 1
                await asyncio.sleep(0.2)  # a short back-off, like Restart=on-failure with RestartSec
                process.start()
            await asyncio.sleep(0.1)

    def total_restarts(self) -> int:
        return sum(self.restarts.values())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
