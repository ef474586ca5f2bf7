"""Throwaway Redis servers for one benchmark run: one redis-server, or a Cluster of 3 masters.

Why private: INFO's counters (read events, commandstats, CPU, memory) are a whole server's, so each
target gets a server of its own and the counters are that target's alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
from typing import Any

from redis.asyncio import Redis

from sarah_testing.redis_process import free_port


class PrivateRedis:
    """One throwaway redis-server on a free port, nothing written to disk."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit("scripts/bench needs redis-server on PATH (Debian: apt-get install redis-server)")
        self.port = free_port()
        self.ports = [self.port]
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def __aenter__(self) -> PrivateRedis:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        client = Redis.from_url(self.url)
        try:
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return self
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        raise RuntimeError(f"redis-server on port {self.port} did not answer")

    async def __aexit__(self, *_: Any) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)


class PrivateCluster:
    """A Redis Cluster of 3 masters and no replicas on free ports (as in the fault table), thrown away after."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            raise SystemExit("scripts/bench --cluster needs redis-server and redis-cli on PATH")
        self.ports: list[int] = []
        while len(self.ports) < 3:  # the cluster bus listens on port + 10000: both must be free
            port = free_port()
            if port < 55535 and _port_free(port + 10000) and port not in self.ports:
                self.ports.append(port)
        self.port = self.ports[0]
        self.directory = tempfile.TemporaryDirectory(prefix="bench-cluster-")
        self.processes: list[asyncio.subprocess.Process] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def __aenter__(self) -> PrivateCluster:
        for port in self.ports:
            command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            command += ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"]
            command += ["--dir", self.directory.name]
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
                )
            )
        for port in self.ports:
            client = Redis(port=port)
            try:
                for _ in range(200):
                    with contextlib.suppress(Exception):
                        if await client.ping():
                            break
                    await asyncio.sleep(0.05)
            finally:
                await client.aclose()
        create = await asyncio.create_subprocess_exec(
            "redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
            "--cluster-replicas", "0", "--cluster-yes",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await asyncio.wait_for(create.wait(), 60) != 0:
            raise RuntimeError("redis-cli --cluster create failed")
        for port in self.ports:
            client = Redis(port=port, decode_responses=True)
            try:
                for _ in range(400):
                    if (await client.cluster("info"))["cluster_state"] == "ok":
                        break
                    await asyncio.sleep(0.05)
            finally:
                await client.aclose()
        return self

    async def __aexit__(self, *_: Any) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            await asyncio.wait_for(process.wait(), 10)
        self.directory.cleanup()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
