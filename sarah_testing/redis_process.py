"""Throwaway `redis-server` processes on free 127.0.0.1 ports, for tests that stop and restart Redis.

Never the machine's Redis on 6379: each `RedisProcess` starts its own server, waits until PING
answers, and is killed on exit. Without `persistent` nothing is written to disk (`--save ""
--appendonly no`); with it every write goes to an append-only file in `data_dir` first, so a
restart keeps the data, like a production Redis with AOF.

    with RedisProcess(persistent=True, data_dir=tmp_path) as server:
        url = server.url(db=0)
        await server.astop()      # the outage begins
        await server.astart()     # same port, same data
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

START_TIMEOUT_SECONDS = 10.0
# The machine's Redis the other tests share, one db each (they empty it): not a throwaway process.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    def __init__(self, port: int | None = None, *, persistent: bool = False, data_dir: Path | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("these tests need `redis-server` on PATH (Debian: apt-get install redis-server)")
        if persistent and data_dir is None:
            raise ValueError("a persistent Redis needs a data_dir (use pytest's tmp_path)")
        self.port = port or free_port()
        self._persistent = persistent
        self._data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        if self.running:
            return
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "no"]
        if self._persistent:
            command += ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", str(self._data_dir)]
        else:
            command += ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not answers_ping(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError(f"redis-server on port {self.port} did not answer PING in time")
            time.sleep(0.02)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (a clean shutdown) or, with `kill`, SIGKILL (a crash)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill() if kill else self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self, *, kill: bool = False) -> None:
        await asyncio.to_thread(self.stop, kill=kill)

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop(kill=True)
